from cgocheck.cli import main

main()
