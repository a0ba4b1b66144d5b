"""Checks the Dockerfile statically against the built server (no container engine needed).

- The runtime stage installs exactly the Debian packages that own the shared libraries
  `ldd BINARY` lists (each library resolved through symlinks and alternatives and looked up
  with `dpkg -S`), less the toolchain's Swift libraries (the image links them statically, so
  the build stage must pass --static-swift-stdlib) and the packages debian:bookworm-slim
  already has.
- The image runs as a numeric non-root user, has a HEALTHCHECK, sets only FIXSERVE_*
  variables that `fixserve serve` reads, and starts `fixserve serve`.
- With --port, the HEALTHCHECK's command is run as Docker would run it (`/bin/sh -c`) against
  the server on that port: it must pass, and fail against a port nobody listens on.

Usage: check_dockerfile.py DOCKERFILE BINARY SERVE_COMMAND_SWIFT [--port PORT]
"""

import argparse
import os
import re
import shlex
import socket
import subprocess
import sys

# In debian:bookworm-slim before any apt-get install (libstdc++6 and libgcc-s1 come with apt).
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}

problems = []


def problem(text):
    problems.append(text)


def stages(path):
    """The Dockerfile's stages as (name, [instructions]), continuation lines joined."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            result.append({"base": match.group(1), "name": match.group(2), "instructions": []})
        elif result:
            result[-1]["instructions"].append((instruction, rest.strip()))
    return result


def apt_packages(run):
    packages = []
    for command in run.split("&&"):
        words = shlex.split(command)
        if "apt-get" in words and "install" in words:
            packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages


def ldd(binary):
    output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libraries = []
    for line in output.splitlines():
        line = line.strip()
        if "not found" in line:
            problem(f"ldd: {line}")
        match = re.match(r"(?:\S+\s+=>\s+)?(/\S+)\s+\(0x", line)
        if match:
            libraries.append(match.group(1))
    return libraries


def owner(path):
    """The Debian package that owns a library file, through symlinks, alternatives and usrmerge."""
    candidates = []
    for candidate in (os.path.realpath(path), path):
        candidates.append(candidate)
        if candidate.startswith("/usr/lib/"):
            candidates.append(candidate[len("/usr"):])
        elif candidate.startswith("/lib/") or candidate.startswith("/lib64/"):
            candidates.append("/usr" + candidate)
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            package = result.stdout.split(":")[0].strip()
            # "diversion by …" lines and multi-arch qualifiers aside, the first name is the owner.
            return package.split(",")[0].strip()
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dockerfile")
    parser.add_argument("binary")
    parser.add_argument("serve_command")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()

    all_stages = stages(args.dockerfile)
    named = {s["name"]: s for s in all_stages if s["name"]}
    build, runtime = named.get("build"), named.get("runtime")
    if build is None or runtime is None:
        print("the Dockerfile needs stages named build and runtime")
        return 1
    if not any("--static-swift-stdlib" in rest for i, rest in build["instructions"] if i == "RUN"):
        problem("the build stage must link the Swift runtime statically (--static-swift-stdlib)")
    if all_stages[-1]["base"] not in ("runtime",) and all_stages[-1] is not runtime:
        problem("the last stage (what `docker build .` makes) must be the runtime")

    installed = []
    for instruction, rest in runtime["instructions"]:
        if instruction == "RUN":
            installed += apt_packages(rest)

    toolchain = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(subprocess.run(
        ["sh", "-c", "command -v swift"], capture_output=True, text=True).stdout.strip() or "/usr/bin/swift")), ".."))
    needed, swift_libraries = {}, []
    for library in ldd(args.binary):
        real = os.path.realpath(library)
        if real.startswith(toolchain + "/") or "/usr/lib/swift/" in real:
            swift_libraries.append(os.path.basename(library))
            continue
        package = owner(library)
        if package is None:
            problem(f"no Debian package owns {library} ({real})")
            continue
        needed.setdefault(package, []).append(os.path.basename(library))
    expected = set(needed) - BASE_IMAGE_PACKAGES
    listed = set(installed)
    for package in sorted(expected - listed):
        problem(f"the runtime stage does not install {package} (for {', '.join(needed[package])})")
    for package in sorted(listed - expected):
        problem(f"the runtime stage installs {package}, which no library of the binary needs")
    if len(installed) != len(listed):
        problem("the runtime stage lists a package twice")
    print("ldd packages:", ", ".join(f"{p} ({', '.join(needed[p])})" for p in sorted(needed)))
    print("statically linked in the image:", ", ".join(sorted(swift_libraries)) or "none")
    print("runtime stage installs:", ", ".join(installed))

    instructions = [(i, rest) for s in all_stages if s is runtime or s["base"] == "runtime" for i, rest in s["instructions"]]
    users = [rest for i, rest in runtime["instructions"] if i == "USER"]
    if not users or not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1]):
        problem(f"the runtime stage must end as a numeric non-root USER, not {users[-1] if users else 'root'}")
    final_users = [rest for s in all_stages if s["base"] == "runtime" for i, rest in s["instructions"] if i == "USER"]
    if final_users and final_users[-1] in ("0", "root"):
        problem("a stage built on runtime ends as root")
    healthchecks = [rest for i, rest in runtime["instructions"] if i == "HEALTHCHECK"]
    if len(healthchecks) != 1 or " CMD " not in " " + healthchecks[0] + " ":
        problem("the runtime stage needs one HEALTHCHECK with a CMD")
    entrypoints = [rest for i, rest in runtime["instructions"] if i == "ENTRYPOINT"]
    if entrypoints != ['["fixserve", "serve"]']:
        problem(f"the entrypoint must be fixserve serve, not {entrypoints}")

    with open(args.serve_command) as f:
        options = set(re.findall(r'Environment\.(?:string|int|double|bool)\("([a-z-]+)"', f.read()))
    accepted = {"FIXSERVE_" + o.upper().replace("-", "_") for o in options}
    for instruction, rest in instructions:
        if instruction == "ENV":
            for name in re.findall(r"(\S+?)=", rest):
                if name not in accepted:
                    problem(f"ENV {name} is not a variable fixserve serve reads ({', '.join(sorted(accepted))})")
    print("variables the server reads:", ", ".join(sorted(accepted)))

    if args.port and healthchecks:
        command = healthchecks[0].split(" CMD ", 1)[1] if " CMD " in healthchecks[0] else healthchecks[0][4:]
        def run(port):
            env = dict(os.environ, FIXSERVE_PORT=str(port))
            try:
                return subprocess.run(["/bin/sh", "-c", command], env=env, timeout=10, capture_output=True).returncode
            except subprocess.TimeoutExpired:
                return -1
        if run(args.port) != 0:
            problem(f"the HEALTHCHECK fails against the ready server on port {args.port}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        if run(closed) == 0:
            problem("the HEALTHCHECK passes with no server listening")
        print(f"HEALTHCHECK passes against port {args.port} and fails against closed port {closed}")

    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} problems")
        return 1
    print("Dockerfile agrees with the binary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
