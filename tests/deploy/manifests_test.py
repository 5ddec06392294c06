#!/usr/bin/env python3
"""Issue 16: every manifest of deploy/kubernetes/ parses, is run as the
recipes promise, and the hubbatch arguments in it are accepted by the binary.

For each CronJob and Job:
  - the pod runs as 65532, non-root, read-only root file system, no
    capabilities, no privilege escalation; it asks for CPU and memory and
    caps memory; /tmp is an emptyDir (the root is read-only);
  - the image is hubbatch at the project's version, with its ENTRYPOINT;
  - restartPolicy Never, a backoffLimit, --resume, and a grace period longer
    than --drain-timeout (SIGTERM drains, then exit 3);
  - every path hubbatch reads or writes is on a volume: the outputs (report,
    journal, failures) on the persistent volume, so a retried pod finds its
    journal; the token file on a Secret volume; each $(VAR) is defined;
  - an Indexed Job has one config file per index, and each portal's file
    names only that portal's token and files;
  - the arguments, with each $(VAR) filled in and each volume a directory
    here, pass `hubbatch … --plan` against a sample input (each index of an
    Indexed Job in turn).

  usage: manifests_test.py HUBBATCH_BINARY SOURCE_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

try:
    import yaml
except ImportError:
    print("FAIL: python3-yaml is not installed (scripts/install-deps.sh installs it)")
    sys.exit(1)

binary, src = os.path.abspath(sys.argv[1]), sys.argv[2]
version = re.search(r"project\(hubbatch VERSION ([0-9.]+)", open(os.path.join(src, "CMakeLists.txt")).read())[1]
problems = []
checked = 0
portal_configs_checked = set()


def check(ok, what):
    global checked
    checked += 1
    if not ok:
        problems.append(what)
        print("FAIL:", what)


PATH_FLAGS = {"input", "report", "failures", "journal", "token-file", "config", "metrics-file", "ca-file",
              "backup", "output"}
OUTPUT_FLAGS = {"report", "failures", "journal", "metrics-file", "backup", "output"}
SAMPLE_PAIRS = "from_id,to_id\n101,9001\n101,9002\n102,9001\n"


def seconds(duration):
    """A hubbatch duration (30s, 5m, 1h, 500ms, 30) in seconds."""
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", duration)
    scale = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m[2]]
    return float(m[1]) * scale


def split_args(args):
    """hubbatch's arguments as (flag, value) pairs: --a=b, --a b, or --a alone."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a:
            out.append(tuple(a[2:].split("=", 1)))
        elif a.startswith("--") and a[2:] in PATH_FLAGS | {"drain-timeout"} and i + 1 < len(args):
            out.append((a[2:], args[i + 1]))
            i += 1
        elif a.startswith("--"):
            out.append((a[2:], None))
        i += 1
    return out


def env_values(container, workload, index):
    """The container's environment as the kubelet fills it in for a test pod."""
    job_name = workload["metadata"]["name"]
    if workload["kind"] == "CronJob":
        job_name += "-29420000"  # CronJob Jobs are named <cronjob>-<scheduled minutes since 1970>
    values = {}
    for e in container.get("env", []):
        if "value" in e:
            values[e["name"]] = str(e["value"])
            continue
        path = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
        if path == "metadata.labels['job-name']":
            values[e["name"]] = job_name
        elif path == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
            check(index is not None, f"{e['name']} reads the completion index of a Job that is not Indexed")
            values[e["name"]] = str(index)
        else:
            check(False, f"env {e['name']}: the test does not know the field {path!r}")
    if index is not None:
        values.setdefault("JOB_COMPLETION_INDEX", str(index))  # the Job controller sets it too
    return values


def expand(text, values, where):
    out = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: values.get(m[1], m[0]), text)
    check("$(" not in out, f"{where}: {text!r} names a variable the container does not define")
    return out


def check_workload(path, workload, configmaps):
    name = f"{os.path.basename(path)}: {workload['kind']} {workload['metadata']['name']}"
    if workload["kind"] == "CronJob":
        job = workload["spec"]["jobTemplate"]["spec"]
        check(workload["spec"].get("concurrencyPolicy") == "Forbid", f"{name}: concurrencyPolicy is not Forbid")
    else:
        job = workload["spec"]
    pod = job["template"]["spec"]
    indexed = job.get("completionMode") == "Indexed"
    check(isinstance(job.get("backoffLimit"), int) and job["backoffLimit"] > 0, f"{name}: no backoffLimit")
    check(pod.get("restartPolicy") == "Never", f"{name}: restartPolicy is not Never")
    if indexed:
        check(isinstance(job.get("completions"), int) and isinstance(job.get("parallelism"), int),
              f"{name}: an Indexed Job needs completions and parallelism")
    sc = pod.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True, f"{name}: runAsNonRoot is not true")
    check(sc.get("runAsUser") == 65532 and sc.get("runAsGroup") == 65532, f"{name}: does not run as 65532:65532")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check(len(pod["containers"]) == 1, f"{name}: one container expected")
    c = pod["containers"][0]
    cname = f"{name}: container {c['name']}"
    check(re.fullmatch(rf"(.+/)?hubbatch:{re.escape(version)}", c.get("image", "")) is not None,
          f"{cname}: image {c.get('image')!r} is not hubbatch:{version}")
    check(c.get("command") in (None, ["hubbatch"]), f"{cname}: command overrides the image's ENTRYPOINT [hubbatch]")
    csc = c.get("securityContext", {})
    check(csc.get("readOnlyRootFilesystem") is True, f"{cname}: readOnlyRootFilesystem is not true")
    check(csc.get("allowPrivilegeEscalation") is False, f"{cname}: allowPrivilegeEscalation is not false")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{cname}: capabilities are not all dropped")
    res = c.get("resources", {})
    check({"cpu", "memory"} <= set(res.get("requests", {})), f"{cname}: no CPU and memory requests")
    check("memory" in res.get("limits", {}), f"{cname}: no memory limit")
    for rule in job.get("podFailurePolicy", {}).get("rules", []):
        if "onExitCodes" in rule:
            check(rule["onExitCodes"].get("containerName") in (None, c["name"]),
                  f"{name}: podFailurePolicy names container {rule['onExitCodes'].get('containerName')}")
            check(3 not in rule["onExitCodes"].get("values", []) or rule["action"] == "Count",
                  f"{name}: podFailurePolicy must retry exit 3 (stopped, resumable)")

    mounts = {}
    for m in c.get("volumeMounts", []):
        check(m["name"] in volumes, f"{cname}: mount of an undefined volume {m['name']}")
        mounts[m["mountPath"]] = (m, volumes.get(m["name"], {}))
    check("emptyDir" in mounts.get("/tmp", ({}, {}))[1], f"{cname}: /tmp is not an emptyDir (the root is read-only)")

    args = c.get("args", [])
    check(args[:1] in (["archive"], ["create"], ["archive-labels"], ["export"], ["verify"]),
          f"{cname}: args do not start with a hubbatch job command: {args[:1]}")
    check("--resume" in args, f"{cname}: no --resume: a retried pod would not continue its job")
    drain = [v for f, v in split_args(args) if f == "drain-timeout"]
    check(pod.get("terminationGracePeriodSeconds", 30) > seconds(drain[0] if drain else "30s"),
          f"{name}: terminationGracePeriodSeconds is not longer than --drain-timeout")

    indices = range(job.get("completions", 0)) if indexed else [None]
    if indexed:
        items = [i for v in volumes.values() for i in v.get("configMap", {}).get("items", [])]
        check(len(items) == job.get("completions"),
              f"{name}: completions {job.get('completions')} but {len(items)} config files in the configMap items")
    for index in indices:
        run_pod(f"{cname}" + (f" index {index}" if index is not None else ""), workload, c, mounts, configmaps, index)


def mount_of(path, mounts):
    best = None
    for mp in mounts:
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            best = mp if best is None or len(mp) > len(best) else best
    return best


def run_pod(where, workload, c, mounts, configmaps, index):
    values = env_values(c, workload, index)
    with tempfile.TemporaryDirectory() as root:
        def host(path):
            return root + path

        # The volumes, as directories; a configMap's files written out with
        # their paths moved under the test's root.
        for mp, (m, vol) in mounts.items():
            if "subPathExpr" in m:
                expand(m["subPathExpr"], values, f"{where}: subPathExpr")
            os.makedirs(host(mp), exist_ok=True)
            if "configMap" in vol:
                data = configmaps.get(vol["configMap"]["name"])
                check(data is not None, f"{where}: no ConfigMap {vol['configMap']['name']} in the manifest")
                for item in vol["configMap"].get("items") or [{"key": k, "path": k} for k in data or {}]:
                    check(item["key"] in (data or {}), f"{where}: ConfigMap has no key {item['key']}")
                    text = (data or {}).get(item["key"], "")
                    text = re.sub(r'"(/[^"]*)"', lambda q: f'"{host(q[1]) if mount_of(q[1], mounts) else q[1]}"', text)
                    with open(os.path.join(host(mp), item["path"]), "w") as f:
                        f.write(text)
                    if item["key"].endswith(".toml") and item["key"] not in portal_configs_checked:
                        portal_configs_checked.add(item["key"])
                        check_portal_config(where, item["key"], data[item["key"]])

        def place(flag, path, origin):
            """Checks where PATH is, creates what hubbatch reads there; returns the test's path."""
            if not path.startswith("/"):
                path = "/data/" + path  # the image's WORKDIR
            mp = mount_of(path, mounts)
            check(mp is not None, f"{where}: {origin} {flag} {path} is on no volume (the root is read-only)")
            if mp is None:
                return host(path)
            m, vol = mounts[mp]
            if flag in OUTPUT_FLAGS:
                check("persistentVolumeClaim" in vol and not m.get("readOnly"),
                      f"{where}: {origin} {flag} {path} is not on the persistent volume: a retried pod loses it")
            if flag == "token-file":
                check("secret" in vol, f"{where}: {origin} token file {path} is not on a Secret volume")
                items = vol.get("secret", {}).get("items")
                if items:
                    check(os.path.relpath(path, mp) in [i["path"] for i in items],
                          f"{where}: token file {path} is not among the Secret's items")
            os.makedirs(os.path.dirname(host(path)), exist_ok=True)
            if flag == "input":
                with open(host(path), "w") as f:
                    f.write(SAMPLE_PAIRS)
            elif flag == "token-file":
                with open(host(path), "w") as f:
                    f.write("pat-na1-test\n")
                os.chmod(host(path), 0o600)
            return host(path)

        args = [expand(a, values, f"{where}: args") for a in c.get("args", [])]
        run = []
        i = 0
        while i < len(args):
            a = args[i]
            flag, _, value = a[2:].partition("=") if a.startswith("--") else ("", "", "")
            if flag in PATH_FLAGS and value:
                run.append(f"--{flag}={place(flag, value, 'argument')}")
            elif flag in PATH_FLAGS and i + 1 < len(args):
                run += [a, place(flag, args[i + 1], "argument")]
                i += 1
            else:
                run.append(a)
            if flag == "config":
                config = value or args[i]
                settings = {}
                if os.path.isfile(host(config)):
                    with open(host(config), "rb") as f:
                        settings = tomllib.load(f)
                else:
                    check(False, f"{where}: --config {config}: no such file in the volumes")
                for key, v in settings.items():
                    if key in PATH_FLAGS:
                        for p in v if isinstance(v, list) else [v]:
                            # the file already names the test's paths: map them back to check them
                            place(key, p[len(root):] if p.startswith(root) else p, f"{os.path.basename(config)}:")
            i += 1

        cwd = host("/data")
        os.makedirs(cwd, exist_ok=True)
        p = subprocess.run([binary] + run + ["--plan"], cwd=cwd, capture_output=True, text=True, timeout=60)
        ok = p.returncode == 0 and p.stdout.startswith("plan")
        check(ok, f"{where}: `hubbatch {' '.join(args)} --plan` exits {p.returncode}: {p.stderr.strip()[-400:]}")
        if ok:
            print(f"ok: {where}: hubbatch {' '.join(args)} --plan")


def check_portal_config(where, key, text):
    """A portal's config file names only that portal's token and files."""
    portal = key[: -len(".toml")]
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        check(False, f"{where}: {key} is not TOML: {e}")
        return
    for k, v in settings.items():
        for p in v if isinstance(v, list) else [v]:
            if isinstance(p, str) and p.startswith("/"):
                check(portal in p.split("/"), f"{where}: {key}: {k} = {p!r} is not {portal}'s")
    for k in ("token-file", "input", "report", "failures"):
        check(k in settings, f"{where}: {key} does not set {k}")


manifests = sorted(glob.glob(os.path.join(src, "deploy", "kubernetes", "*.yaml")))
check(len(manifests) >= 2, "deploy/kubernetes/ has fewer than two manifests")
kinds = set()
for path in manifests:
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"{path} does not parse: {e}")
        continue
    configmaps = {}
    for d in docs:
        check(isinstance(d, dict) and {"apiVersion", "kind", "metadata"} <= set(d) and "name" in d["metadata"],
              f"{path}: a document without apiVersion, kind or metadata.name")
        if d.get("kind") == "ConfigMap":
            configmaps[d["metadata"]["name"]] = d.get("data", {})
    for d in docs:
        if d.get("kind") in ("CronJob", "Job"):
            kinds.add((d["kind"], d["spec"].get("completionMode", "NonIndexed")))
            try:
                check_workload(path, d, configmaps)
            except (KeyError, TypeError, AttributeError) as e:
                check(False, f"{path}: {d['kind']} {d['metadata']['name']}: missing or malformed field {e!r}")
check(("CronJob", "NonIndexed") in kinds, "no CronJob (the single-portal recipe)")
check(("Job", "Indexed") in kinds, "no Indexed Job (the fleet recipe)")

print(f"manifests: {checked - len(problems)} passed, {len(problems)} failed")
sys.exit(1 if problems else 0)
