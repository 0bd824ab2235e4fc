"""``python -m lms.standards courses/omr/standard.yaml`` checks standard files and prints path:line: message."""

from lms.standards.validation import main

raise SystemExit(main())
