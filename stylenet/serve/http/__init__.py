"""``stylenet-serve``'s HTTP API: a FastAPI app over the Stylizer backends.

:func:`~stylenet.serve.http.app.create_app` builds the app from
:class:`~stylenet.serve.http.settings.ServerSettings`; every inference goes through
:mod:`stylenet.serve.http.inference`.
"""
