"""scripts/cluster/kubernetes.yaml parses and holds the fields that matter."""
import pathlib
import sys

import yaml

path = pathlib.Path(sys.argv[1]) / "scripts" / "cluster" / "kubernetes.yaml"
docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
assert len(docs) == 2, f"{path}: {len(docs)} documents, want the units Job and the ingest Job"
units, ingest = docs
checked = 0
for job in docs:
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job", job["metadata"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    claims = {v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    for c in pod["containers"]:
        assert c["command"][0] == "oiv4-kv"
        assert {m["name"] for m in c["volumeMounts"]} <= claims, "a mount without its volume"
        checked += 1
assert units["spec"]["completionMode"] == "Indexed"
assert units["spec"]["completions"] >= 1
cmd = units["spec"]["template"]["spec"]["containers"][0]["command"]
assert cmd[1] == "convert-unit" and cmd[cmd.index("--unit-from-env") + 1] == "JOB_COMPLETION_INDEX"
assert ingest["spec"]["template"]["spec"]["containers"][0]["command"][1] == "ingest"
assert checked == 2, checked
print("PASS: kubernetes.yaml")
