"""osteo-analytics: encrypted, pseudonymized practice analytics for French osteopaths."""

__version__ = "0.1.0"
