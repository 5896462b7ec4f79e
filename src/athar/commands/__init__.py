"""Sub-commands of the ``athar`` CLI: parse input, call a service, render the result."""
