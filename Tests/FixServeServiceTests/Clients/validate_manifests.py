"""Checks deploy/ offline: every Kubernetes manifest against the Kubernetes JSON schemas that
kubernetes-validate ships (strict: unknown fields are errors), for the oldest and the newest
Kubernetes release the manifests are meant for; the KServe resources against the fields
KServe's CRDs require, their containers and resources against the Kubernetes schemas; and the
facts the manifests promise each other and the server (probe paths, the h2c port, the API-key
file, selectors, claims, the autoscaler's target, the runtime's model format).

Usage: validate_manifests.py DEPLOY_DIRECTORY
Prints one line per checked resource and exits 0 when all is well, 1 with every problem listed
otherwise, 77 when kubernetes-validate is not installed.
"""

import glob
import importlib.util
import os
import re
import sys

if importlib.util.find_spec("kubernetes_validate") is None:
    print("kubernetes-validate is not installed (python3 -m pip install kubernetes-validate)")
    sys.exit(77)

import jsonschema
import kubernetes_validate
import referencing
import yaml
from kubernetes_validate import utils as kv

# The preStop sleep action is on by default from 1.30.
KUBERNETES_VERSIONS = ["1.30.0", kv.latest_version()]

problems = []

# The FIXSERVE_* variables `fixserve serve` reads (each option's Environment default), and
# FIXSERVE_AUTH_FILE, the API-key file (--auth-file).
SERVE_COMMAND = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Sources", "FixServeCLI", "ServeCommand.swift")
with open(SERVE_COMMAND) as f:
    SERVER_VARIABLES = {"FIXSERVE_" + o.upper().replace("-", "_")
                        for o in re.findall(r'Environment\.(?:string|int|double|bool)\("([a-z-]+)"', f.read())}


def problem(where, text):
    # Checks that run once per Kubernetes version report a problem once.
    if f"{where}: {text}" not in problems:
        problems.append(f"{where}: {text}")


def load(directory):
    resources = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True)):
        with open(path) as f:
            for document in yaml.safe_load_all(f):
                if document is not None:
                    resources.append((os.path.relpath(path, directory), document))
    return resources


def definitions_validator(name, version):
    """A validator for one type of Kubernetes' definitions (e.g. io.k8s.api.core.v1.Container)."""
    schema_dir = f"kubernetes-json-schema/v{version}-local-strict"
    definitions = kv.schema_contents(f"{schema_dir}/_definitions.json", version)
    resource = referencing.Resource.from_contents(definitions)
    registry = resource @ referencing.Registry()
    schema = {"$ref": f"https://kubernetes.io/api/_definitions.json#/$defs/{name}"}
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def check_required(where, value, path, fields):
    node = value
    for key in path:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else {}
        else:
            node = node.get(key, {}) if isinstance(node, dict) else {}
    for field in fields:
        if not isinstance(node, dict) or field not in node or node[field] in (None, "", [], {}):
            problem(where, f"{'.'.join(map(str, path + [field]))} is required")


def kserve_runtime(where, runtime, version):
    check_required(where, runtime, [], ["apiVersion", "kind", "metadata", "spec"])
    check_required(where, runtime, ["metadata"], ["name"])
    check_required(where, runtime, ["spec"], ["containers", "supportedModelFormats"])
    spec = runtime.get("spec", {})
    for index, model_format in enumerate(spec.get("supportedModelFormats", [])):
        check_required(where, runtime, ["spec", "supportedModelFormats", index], ["name"])
    if "v2" not in spec.get("protocolVersions", []):
        problem(where, "protocolVersions must include v2 (FixServe speaks the Open Inference Protocol v2)")
    container_schema = definitions_validator("io.k8s.api.core.v1.Container", version)
    containers = spec.get("containers", [])
    for container in containers:
        for error in container_schema.iter_errors(container):
            problem(where, f"container {container.get('name')}: {error.message} at {list(error.absolute_path)}")
    serving = [c for c in containers if c.get("name") == "kserve-container"]
    if len(serving) != 1:
        problem(where, "KServe runs the container named kserve-container: there must be exactly one")
    else:
        ports = serving[0].get("ports", [])
        if not any(p.get("containerPort") == 8080 and p.get("name") == "h2c" for p in ports):
            problem(where, "kserve-container must expose containerPort 8080 named h2c")
        if "--models=/mnt/models" not in serving[0].get("args", []):
            problem(where, "the server must read the repository KServe downloads to /mnt/models")
        for variable in (e["name"] for e in serving[0].get("env", [])):
            if variable not in SERVER_VARIABLES and variable != "FIXSERVE_AUTH_FILE":
                problem(where, f"{variable} is not a variable fixserve serve reads")


def kserve_inference_service(where, service, runtimes, version):
    check_required(where, service, [], ["apiVersion", "kind", "metadata", "spec"])
    check_required(where, service, ["metadata"], ["name"])
    check_required(where, service, ["spec"], ["predictor"])
    check_required(where, service, ["spec", "predictor", "model"], ["modelFormat", "storageUri"])
    check_required(where, service, ["spec", "predictor", "model", "modelFormat"], ["name"])
    model = service.get("spec", {}).get("predictor", {}).get("model", {})
    resources = model.get("resources")
    if resources is not None:
        for error in definitions_validator("io.k8s.api.core.v1.ResourceRequirements", version).iter_errors(resources):
            problem(where, f"resources: {error.message}")
    runtime = runtimes.get(model.get("runtime"))
    if runtime is None:
        problem(where, f"runtime {model.get('runtime')!r} is not a ClusterServingRuntime in deploy/")
        return
    formats = [f.get("name") for f in runtime["spec"].get("supportedModelFormats", [])]
    if model.get("modelFormat", {}).get("name") not in formats:
        problem(where, f"modelFormat {model.get('modelFormat')} is not one the runtime supports ({formats})")
    if model.get("protocolVersion", "v2") not in runtime["spec"].get("protocolVersions", []):
        problem(where, "protocolVersion is not one the runtime speaks")
    scheme = str(model.get("storageUri", "")).split("://")[0]
    if scheme not in ("s3", "gs", "pvc", "https", "http", "hdfs", "webhdfs", "oci"):
        problem(where, f"storageUri scheme {scheme!r} is not one KServe's storage initializer handles")


def pod_spec(where, template, claims, secrets):
    """What the server needs from a pod: probes, the h2c port, the API-key file, claims that exist."""
    spec = template.get("spec", {})
    containers = {c["name"]: c for c in spec.get("containers", [])}
    server = containers.get("fixserve")
    if server is None:
        problem(where, "no container named fixserve")
        return
    env = {e["name"]: e.get("value") for e in server.get("env", [])}
    for variable in env:
        if variable not in SERVER_VARIABLES and variable != "FIXSERVE_AUTH_FILE":
            problem(where, f"{variable} is not a variable fixserve serve reads")
    ports = {p.get("name"): p.get("containerPort") for p in server.get("ports", [])}
    if ports.get("h2c") != int(env.get("FIXSERVE_PORT", "8080")):
        problem(where, "the container port named h2c must be FIXSERVE_PORT")
    if server.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/v2/health/live":
        problem(where, "the liveness probe must ask /v2/health/live")
    readiness = server.get("readinessProbe", {}).get("httpGet", {}).get("path")
    component = template.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")
    if component == "serving" and readiness != "/v2/health/ready":
        problem(where, "the serving readiness probe must ask /v2/health/ready")
    if "resources" not in server or not server["resources"].get("requests") or not server["resources"].get("limits"):
        problem(where, "the server needs resource requests and limits")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in server.get("volumeMounts", [])}
    for variable in ("FIXSERVE_MODELS", "FIXSERVE_STATE"):
        if env.get(variable) not in mounts:
            problem(where, f"{variable}={env.get(variable)} is not a mounted volume")
    auth = env.get("FIXSERVE_AUTH_FILE")
    if not auth:
        problem(where, "FIXSERVE_AUTH_FILE must name the API-key file")
    else:
        directory, name = os.path.split(auth)
        volume = volumes.get(mounts.get(directory, ""), {})
        secret = volume.get("secret", {})
        if secret.get("secretName") not in secrets:
            problem(where, f"FIXSERVE_AUTH_FILE's directory {directory} is not a mounted Secret from deploy/")
        elif name not in secrets[secret["secretName"]]:
            problem(where, f"the Secret {secret['secretName']} has no key {name}")
    for volume in volumes.values():
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim and claim not in claims:
            problem(where, f"claim {claim} is not in deploy/")
    security = spec.get("securityContext", {})
    if not security.get("runAsNonRoot"):
        problem(where, "the pod must run as non-root")


def main():
    directory = sys.argv[1]
    resources = load(directory)
    by_kind = {}
    for path, resource in resources:
        by_kind.setdefault(resource.get("kind"), []).append((path, resource))
    claims = {r["metadata"]["name"] for _, r in by_kind.get("PersistentVolumeClaim", [])}
    secrets = {}
    for _, secret in by_kind.get("Secret", []):
        secrets[secret["metadata"]["name"]] = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    runtimes = {r["metadata"]["name"]: r for _, r in by_kind.get("ClusterServingRuntime", [])}
    deployments = {r["metadata"]["name"]: r for _, r in by_kind.get("Deployment", [])}

    for path, resource in resources:
        where = f"{path} {resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        api_group = str(resource.get("apiVersion", "")).split("/")[0]
        for version in KUBERNETES_VERSIONS:
            if api_group == "serving.kserve.io":
                if resource.get("kind") == "ClusterServingRuntime":
                    kserve_runtime(where, resource, version)
                elif resource.get("kind") == "InferenceService":
                    kserve_inference_service(where, resource, runtimes, version)
                else:
                    problem(where, "unexpected KServe kind")
                continue
            try:
                kubernetes_validate.validate(resource, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problem(where, f"Kubernetes {version}: {error.message} at {list(error.path)}")
            except kubernetes_validate.SchemaNotFoundError:
                problem(where, f"Kubernetes {version} has no schema for {resource.get('apiVersion')} {resource.get('kind')}")
        kind = resource.get("kind")
        if kind == "Deployment":
            spec = resource["spec"]
            labels = spec["template"]["metadata"].get("labels", {})
            if any(labels.get(k) != v for k, v in spec["selector"].get("matchLabels", {}).items()):
                problem(where, "the selector does not match the pod template's labels")
            pod_spec(where, spec["template"], claims, secrets)
        elif kind == "Service":
            selector = resource["spec"].get("selector", {})
            targets = [d for d in deployments.values()
                       if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
            if len(targets) != 1:
                problem(where, f"the selector matches {len(targets)} Deployments, not one")
            for port in resource["spec"]["ports"]:
                if port.get("name") != "h2c" or port.get("appProtocol") != "kubernetes.io/h2c":
                    problem(where, "every port must be named h2c with appProtocol kubernetes.io/h2c")
        elif kind == "HorizontalPodAutoscaler":
            target = resource["spec"]["scaleTargetRef"]
            if target.get("kind") != "Deployment" or target.get("name") not in deployments:
                problem(where, f"scales {target}, which is not a Deployment in deploy/")
            elif deployments[target["name"]]["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") != "serving":
                problem(where, "only the serving Deployment may be scaled (the trainer is one replica)")
            metrics = [m.get("resource", {}).get("name") for m in resource["spec"].get("metrics", [])]
            if "cpu" not in metrics:
                problem(where, "the autoscaler must scale on CPU")
        print(f"checked {where}")

    kinds = set(by_kind)
    for needed in ("Deployment", "Service", "PersistentVolumeClaim", "Secret", "HorizontalPodAutoscaler",
                   "ClusterServingRuntime", "InferenceService"):
        if needed not in kinds:
            problem(directory, f"no {needed}")
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} problems in {len(resources)} resources")
        return 1
    print(f"{len(resources)} resources valid for Kubernetes {', '.join(KUBERNETES_VERSIONS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
