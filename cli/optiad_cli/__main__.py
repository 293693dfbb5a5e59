from optiad_cli.main import entry

entry()
