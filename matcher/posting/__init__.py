"""The write side of vacancies and offers: the use cases, pay, how to apply, events after commit,
employer trust (CVR, verification), seekers' reports.
"""
