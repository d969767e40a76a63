"""Convert a plan's units on a Dask cluster, then ingest them (issue 16).

    python3 -m oiv4kv.distributed --scheduler tcp://host:8786 \\
        --plan /shared/w/plan.json --work /shared/w --store /shared/oiv4

or from Python:

    from oiv4kv.distributed import convert_on_dask
    convert_on_dask("tcp://host:8786", "/shared/w/plan.json", "/shared/w", "/shared/oiv4")

Each unit of the plan (`oiv4-kv plan`) becomes one Dask task that runs
`oiv4-kv convert-unit` as a subprocess on a worker; the plan, its inputs and the
work folder must be at the same paths on every worker (a shared file system).
A unit whose task fails is submitted again, up to `retries` more times; a unit
whose worker died is redone by the scheduler (convert-unit starts a killed unit
over). When every unit succeeded, `oiv4-kv ingest` runs once, here. When a unit
still fails, it is named with the tail of its stderr and nothing is ingested.

Dask is imported only when a conversion starts: `import oiv4kv` never imports it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

STDERR_TAIL_CHARS = 2000


class ConversionError(RuntimeError):
    """A unit that failed after its retries, or an ingest that failed."""


def plan_units(plan):
    """The units of a plan file as (number, name) pairs, in the plan's order."""
    with open(plan, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except ValueError as e:
            raise ConversionError(f"{plan}: not a plan file (JSON): {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != "oiv4kv-plan" or "units" not in doc:
        raise ConversionError(f"{plan}: not a plan file (written by `oiv4-kv plan`)")
    return [(k, unit["name"]) for k, unit in enumerate(doc["units"])]


def find_cli(cli=None):
    """The oiv4-kv binary: `cli`, else $OIV4KV_CLI, else oiv4-kv on PATH."""
    found = cli or os.environ.get("OIV4KV_CLI") or shutil.which("oiv4-kv")
    if not found:
        raise ConversionError("oiv4-kv not found: pass cli=/--cli, set OIV4KV_CLI or put it on PATH")
    return found


def _tail(text):
    text = text.strip()
    return text if len(text) <= STDERR_TAIL_CHARS else "..." + text[-STDERR_TAIL_CHARS:]


def run_unit(cli, plan, unit, work, threads=None):
    """Runs on a worker: one `oiv4-kv convert-unit`. Raises with the stderr tail."""
    command = [cli, "convert-unit", "--plan", plan, "--unit", str(unit), "--out", work]
    if threads is not None:
        command += ["--threads", str(threads)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"convert-unit exited with status {proc.returncode} on "
                           f"{os.uname().nodename}: {_tail(proc.stderr)}")
    return unit


def _progress_line(done, total, started):
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
    return f"units {done}/{total} done, {rate:.2f} units/s, ETA {eta}"


def convert_on_dask(client_or_address, plan, work, store, retries=3, threads=None, cli=None,
                    progress=sys.stderr):
    """Converts every unit of `plan` into `work` on the Dask cluster, then ingests
    them into `store`. `client_or_address` is a distributed.Client or a scheduler
    address. Raises ConversionError naming the units that failed after `retries`
    resubmissions (nothing is ingested then), or when the ingest fails."""
    import cloudpickle
    from distributed import Client, as_completed

    # Workers need only the oiv4-kv binary, not this package: ship run_unit by value.
    if hasattr(cloudpickle, "register_pickle_by_value"):
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cli = find_cli(cli)
    plan, work, store = (os.path.abspath(p) for p in (plan, work, store))
    units = plan_units(plan)
    names = dict(units)
    own_client = isinstance(client_or_address, str)
    client = Client(client_or_address) if own_client else client_or_address

    def say(line):
        if progress is not None:
            print(line, file=progress, flush=True)

    try:
        attempts = {k: 1 for k, _ in units}

        def submit(k):
            # A fresh key per attempt: the failed attempt's result is not reused.
            key = f"oiv4kv-unit-{os.path.basename(plan)}-{k}-try{attempts[k]}-{time.time_ns()}"
            future = client.submit(run_unit, cli, plan, k, work, threads, key=key, pure=False)
            unit_of[future.key] = k
            return future

        unit_of = {}
        started = time.monotonic()
        pending = as_completed([submit(k) for k, _ in units])
        done, failed = 0, {}
        say(f"{len(units)} units of {plan} on {client.scheduler.address}")
        for future in pending:
            k = unit_of[future.key]
            if future.status == "finished":
                done += 1
                say(_progress_line(done, len(units), started))
                continue
            error = future.exception()
            if attempts[k] <= retries:
                say(f"unit {k} ({names[k]}) attempt {attempts[k]} failed, retrying: "
                    f"{str(error).splitlines()[0] if str(error) else type(error).__name__}")
                attempts[k] += 1
                pending.add(submit(k))
            else:
                failed[k] = f"{type(error).__name__}: {error}"
                say(f"unit {k} ({names[k]}) failed after {attempts[k]} attempts")
        if failed:
            raise ConversionError(
                f"{len(failed)} of {len(units)} units failed, nothing ingested:\n" +
                "\n".join(f"unit {k} ({names[k]}): {failed[k]}" for k in sorted(failed)))
    finally:
        if own_client:
            client.close()

    say(f"all {len(units)} units converted; ingesting into {store}")
    proc = subprocess.run([cli, "ingest", "--plan", plan, "--units", work, "--store", store],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConversionError(f"oiv4-kv ingest exited with status {proc.returncode}: "
                              f"{_tail(proc.stderr)}")
    say(proc.stdout.strip() or f"ingested into {store}")
    return len(units)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m oiv4kv.distributed",
        description="Convert the units of an `oiv4-kv plan` on a Dask cluster, then ingest them.")
    parser.add_argument("--scheduler", required=True, help="Dask scheduler address (tcp://host:port)")
    parser.add_argument("--plan", required=True, help="The plan file (oiv4-kv plan)")
    parser.add_argument("--work", required=True,
                        help="The units folder, on a file system every worker shares")
    parser.add_argument("--store", required=True, help="Store folder (created if missing)")
    parser.add_argument("--retries", type=int, default=3,
                        help="Resubmissions of a failed unit (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="Transcoding threads per unit (default: the worker's cores)")
    parser.add_argument("--cli", default=None,
                        help="The oiv4-kv binary on the workers (default: $OIV4KV_CLI or PATH)")
    args = parser.parse_args(argv)
    if args.retries < 0:
        parser.error("--retries must be 0 or more")
    try:
        convert_on_dask(args.scheduler, args.plan, args.work, args.store, retries=args.retries,
                        threads=args.threads, cli=args.cli)
    except (ConversionError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
