"""Tools a chat model may call: Python in the sandbox, and search over local documents."""
