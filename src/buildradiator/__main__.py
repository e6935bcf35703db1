from buildradiator.cli import main

raise SystemExit(main())
