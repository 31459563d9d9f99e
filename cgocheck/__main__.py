from cgocheck.cli import run

run()
