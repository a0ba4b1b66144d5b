"""tritonclient[http] against a FixServe server that checks API keys.

Usage: triton_bearer.py HOST:PORT MODEL KEY
Without a key, metadata and inference must fail with 401 while the health probes answer; with
`Authorization: Bearer KEY` passed as tritonclient's `headers=`, both must work. Prints one line
per check and exits non-zero with a message on the first failure.
"""
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    url, model, key = sys.argv[1:4]
    client = httpclient.InferenceServerClient(url=url, network_timeout=30.0)
    headers = {"Authorization": f"Bearer {key}"}
    pixels = np.full((1, 28, 28), 100, dtype=np.uint8)
    inp = httpclient.InferInput("input", list(pixels.shape), "UINT8")
    inp.set_data_from_numpy(pixels, binary_data=True)

    if not client.is_server_live() or not client.is_server_ready():
        fail("the health probes must answer without a key")
    print("health without a key: ok")
    for what, call in (("metadata", lambda: client.get_model_metadata(model)),
                       ("inference", lambda: client.infer(model, [inp]))):
        try:
            call()
            fail(f"{what} without a key succeeded")
        except InferenceServerException as error:
            if "401" not in str(error.status()) and "API key" not in str(error):
                fail(f"{what} without a key: expected 401, got {error.status()}: {error}")
        print(f"{what} without a key: refused")

    metadata = client.get_model_metadata(model, headers=headers)
    if metadata["inputs"][0]["name"] != "input":
        fail(f"unexpected metadata {metadata}")
    result = client.infer(model, [inp], headers=headers)
    logits = result.as_numpy("logits")
    if logits is None or logits.shape != (1, 10) or not np.all(np.isfinite(logits)):
        fail(f"unexpected logits {logits}")
    print("metadata and inference with the key: ok")


if __name__ == "__main__":
    main()
