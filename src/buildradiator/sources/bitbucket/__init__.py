"""Bitbucket Pipelines (Bitbucket Cloud): pipelines of repositories on a branch.

``payloads`` holds the API's answers, ``parse`` turns them into the radiator's model.
"""
