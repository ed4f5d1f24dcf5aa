from dvlite.entry import main

main()
