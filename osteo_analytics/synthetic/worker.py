"""A worker process of `synthesize`: regenerate the practice and write some of its files.

Run as ``python -m osteo_analytics.synthetic.worker`` by `synthesize`, which writes the
request (`_Params` fields and the tasks) as JSON on its standard input. The worker answers
one JSON object on its standard output: what it wrote (`_Part`), or the error that stopped
it. A separate interpreter, not `multiprocessing`: nothing of the caller's main module is
re-imported and nothing of its state (threads, open connections) is forked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from osteo_analytics.synthetic import _generate, _Params, _Part


def encode_request(params: _Params, tasks: list[str]) -> str:
    """The JSON request a worker reads for `params` and `tasks`."""
    fields = dataclasses.asdict(params)
    fields.update(out=str(params.out), start=params.start.isoformat(), end=params.end.isoformat())
    return json.dumps({"params": fields, "tasks": tasks})


def decode_part(text: str) -> _Part:
    """A worker's answer -> its `_Part`; an error it reports is raised again here."""
    answer: dict[str, Any] = json.loads(text)
    if "error" in answer:
        error, message = answer["error"], answer["message"]
        if error == "OSError":
            raise OSError(answer.get("errno"), message)
        raise RuntimeError(f"synthetic practice worker: {error}: {message}")
    part = answer["part"]
    part["paths"] = {task: [Path(p) for p in paths] for task, paths in part["paths"].items()}
    return _Part(**part)


def main() -> None:
    request = json.load(sys.stdin)
    fields = request["params"]
    fields.update(
        out=Path(fields["out"]),
        start=dt.date.fromisoformat(fields["start"]),
        end=dt.date.fromisoformat(fields["end"]),
    )
    try:
        part = _generate(_Params(**fields), request["tasks"], None)
    except OSError as exc:
        json.dump({"error": "OSError", "errno": exc.errno, "message": str(exc)}, sys.stdout)
        sys.exit(1)
    except Exception as exc:
        json.dump({"error": type(exc).__name__, "message": str(exc)}, sys.stdout)
        sys.exit(1)
    answer = dataclasses.asdict(part)
    answer["paths"] = {task: [str(p) for p in paths] for task, paths in part.paths.items()}
    json.dump({"part": answer}, sys.stdout)


if __name__ == "__main__":
    main()
