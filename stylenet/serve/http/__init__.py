"""``stylenet-serve``'s HTTP API: a FastAPI app over the Stylizer backends.

:func:`~stylenet.serve.http.app.create_app` builds the app from
:class:`~stylenet.serve.http.settings.ServerSettings`; models are opened by
:mod:`stylenet.serve.http.inference` and stylized by :func:`stylenet.serve.pipeline.stylize_array`.
"""
