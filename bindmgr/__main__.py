from bindmgr.cli import main

raise SystemExit(main())
