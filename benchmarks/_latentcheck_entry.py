"""The ``latentcheck`` console script, run as a file (as the installed script is) from this checkout."""

from latentcheck.checkers.cli.console import console_main

if __name__ == "__main__":
    console_main()
