"""Accounts and what belongs to a person: tokens and devices, passkeys, consent and data rights,
caseloads and links, applications, marks, the home area.
"""
