from instruments.cli import main

main()
