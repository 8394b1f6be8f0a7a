import sys

from autograder.shipped.gradescope import main

sys.exit(main())
