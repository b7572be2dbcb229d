"""trailwarden's moto launcher.

Starts moto in server mode with trailwarden's fidelity patches applied: each
patch restores AWS's documented behaviour where moto differs in a way that
matters to trailwarden (see docs/emulator.md for the table of gaps).

Usage (the Go harness in internal/emulator runs this):
    TZ=UTC .venv/bin/python internal/emulator/moto/launcher.py -H 127.0.0.1 -p PORT [--unpatched]

Patched, every request to a service trailwarden calls first passes the strict
layer (strict/): botocore's model of the service plus the documented rules the
model lacks; a request AWS would refuse is refused with AWS's error.

--unpatched starts plain moto (no patches, no strict layer); the patch tests use it to show that each gap
still exists upstream, so that a moto upgrade that fixes or moves a gap fails
loudly instead of silently.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    unpatched = "--unpatched" in argv
    argv = [a for a in argv if a != "--unpatched"]
    # CloudTrail converts status times with the host's local zone otherwise.
    os.environ["TZ"] = "UTC"
    try:
        import time

        time.tzset()
    except AttributeError:
        pass
    # MOTO_ACCOUNT_ID overrides every other way of choosing the account.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    if not unpatched:
        sys.path.insert(0, HERE)
        import patches

        patches.apply()
        # The strict layer goes last: it wraps the dispatcher that the
        # patches may have wrapped, so it sees every request first.
        import strict

        strict.apply()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
