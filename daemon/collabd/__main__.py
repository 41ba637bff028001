"""`python -m collabd` is the `collabd` command."""

from collabd.cli import main

main()
