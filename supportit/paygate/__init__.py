"""Computop Paygate's protocol as support needs it: encryption, MAC, response codes.

Pure functions, no Flask and no database: the CLI, the pages, the notification receiver and the
monitors all call the same code, and it is tested against the public vectors.
"""
