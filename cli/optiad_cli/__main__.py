from optiad_cli.main import main

main()
