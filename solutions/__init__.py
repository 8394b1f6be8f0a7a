"""Reference answers to the student tasks, as real Python.

The notebook templates include these sources verbatim; the lines between `# BEGIN SOLUTION` and
`# END SOLUTION` are what otter-grader replaces with `...` in the student notebook.
"""
