"""Azure Pipelines (Azure DevOps Services and Server): builds of chosen definitions on a branch.

``payloads`` holds the API's shapes, ``parse`` the pure functions that turn them into the model.
"""
