"""Lab 8's autograder, in rooms by lifecycle:

    contract.py  what the build writes and the shipped checks read: file names and the hidden-test
                 parameters as one typed record (grading.json)
    release/     the release, as ordered named steps (data → render → assign → execute → verify →
                 publish), calibrate, the public tests, otter assign and our Gradescope zip
    shipped/     what ships inside the zip: the grading engine (grade.py), the student side contained
                 (sandbox/), the judge (judge/) and Gradescope's entry points (gradescope/)
    grading/     a TA's side on their own machine: batches, grades.csv, report.html, validate
"""
