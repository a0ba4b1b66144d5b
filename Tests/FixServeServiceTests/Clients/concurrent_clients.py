"""64 HTTP/2 clients at once, each sending a different image; each must get its own answer.

Usage: concurrent_clients.py BASE_URL MODEL EXPECTED.json CLIENTS
Each client opens its own HTTP/2 connection (httpx, prior knowledge), posts its image to /predictions/MODEL and
checks the returned top label against the expected one; all start together behind a barrier.
"""
import asyncio
import json
import sys

import httpx


async def client(base, model, image, barrier, results):
    async with httpx.AsyncClient(http1=False, http2=True, base_url=base, timeout=30.0) as session:
        await session.get("/ping")  # open the connection before the race
        await barrier.wait()
        with open(image["image_file"], "rb") as f:
            body = f.read()
        response = await session.post(f"/predictions/{model}", content=body, headers={"content-type": "image/png"})
        results.append((image, response.status_code, response.http_version, response.json()))


async def main():
    base, model, expected_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(expected_path) as f:
        expected = json.load(f)
    images = expected["images"][:count]
    barrier = asyncio.Barrier(len(images))
    results = []
    await asyncio.wait_for(asyncio.gather(*(client(base, model, i, barrier, results) for i in images)), timeout=120)
    for image, status, version, body in results:
        if status != 200 or version != "HTTP/2":
            print(f"{image['image_file']}: status {status} over {version}: {body}", file=sys.stderr)
            sys.exit(1)
        top = max(body, key=body.get)
        if top != image["top_label"] or abs(body[top] - image["top_probability"]) > 1e-4:
            print(f"{image['image_file']}: got {top} {body[top]}, expected {image['top_label']} {image['top_probability']}", file=sys.stderr)
            sys.exit(1)
    print(f"ok {len(results)}")


asyncio.run(main())
