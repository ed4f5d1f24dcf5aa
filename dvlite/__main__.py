from dvlite.cli import main

main()
