"""How the guest interpreter is started: its command line, environment and first lines.

The code runs as the `__main__` module, under the name "main.py", with the temporary
folder (seen inside as /tmp) as its current directory and its home. A traceback is
printed without the bootstrap's own frame and with the code's lines, as `python main.py`
would print it, so the model reads the error it caused and nothing of ours.
"""

from __future__ import annotations

GUEST_FOLDER = "/tmp"  # where the run's temporary folder appears inside the sandbox
CODE_NAME = "main.py"

BOOTSTRAP = f'''
def _sandbox_main():
    import os, sys
    os.chdir("{GUEST_FOLDER}")
    code = sys.argv.pop(1)
    sys.argv[0] = "{CODE_NAME}"
    namespace = sys.modules["__main__"].__dict__
    del namespace["_sandbox_main"]
    try:
        compiled = compile(code, "{CODE_NAME}", "exec")
        exec(compiled, namespace)
    except SystemExit:
        raise
    except BaseException as exc:
        import linecache, traceback
        linecache.cache["{CODE_NAME}"] = (len(code), None, code.splitlines(True), "{CODE_NAME}")
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        sys.exit(1)
_sandbox_main()
'''


def guest_argv(code: str) -> list[str]:
    return ["python", "-c", BOOTSTRAP, code]


def guest_environment() -> list[tuple[str, str]]:
    """Nothing of the host's environment (it may hold tokens): only what Python needs."""
    return [
        ("HOME", GUEST_FOLDER),
        ("TMPDIR", GUEST_FOLDER),
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONUTF8", "1"),
    ]
