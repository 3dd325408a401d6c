from mailarchive.cli import main

main()
