"""Thin API views, one module per resource: parse the JSON, run the portal's own form and service, serialize.

Every rule lives where the web portal keeps it: identity.services for access,
enrollment.forms for the enrollment data, enrollment.selectors.domanda_state
for what a form allows, enrollment.services for every change. api.mapping
translates between the JSON and those forms.
"""
