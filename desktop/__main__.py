from desktop.cli import main

# Guarded: the model host is started with multiprocessing "spawn", which imports this
# module again in the child under another name.
if __name__ == "__main__":
    raise SystemExit(main())
