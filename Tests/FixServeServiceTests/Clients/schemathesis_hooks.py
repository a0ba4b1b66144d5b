"""schemathesis hooks for schemathesis_run.py (loaded through SCHEMATHESIS_HOOKS).

The training-job submission reads its body as JSON whatever the Content-Type says, so a valid
body sent as text/plain or multipart/form-data would be queued as a real job. Those cases are
dropped; every other invalid case is still sent.
"""
import schemathesis


def _content_type(case):
    for name, value in (case.headers or {}).items():
        if name.lower() == "content-type":
            return str(value).split(";")[0].strip().lower()
    return (case.media_type or "").lower()


@schemathesis.hook
def filter_case(context, case):
    if case.operation.path == "/v1/training/jobs" and case.method.upper() == "POST":
        return _content_type(case) == "application/json"
    return True
