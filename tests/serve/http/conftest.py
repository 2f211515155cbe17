"""Fixtures of the server tests: the shipped models, loaded once."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from stylenet.serve.http.app import create_app
from stylenet.serve.http.models import load_models
from stylenet.serve.http.settings import ServerSettings
from tests.serve.http.helpers import MULTI, SINGLE, have_models


@pytest.fixture(scope="session")
def served_models():
    if not have_models():
        pytest.skip(f"shipped models {SINGLE} and {MULTI} are not installed")
    return load_models([SINGLE, MULTI], intra_op_threads=1)


@pytest.fixture
def make_client(served_models):
    """``make_client(models=..., **settings)`` → a started TestClient (closed afterwards)."""
    clients = []

    def make(models=None, raise_server_exceptions=True, **options):
        settings = ServerSettings(models=(SINGLE, MULTI), **options)
        chosen = served_models if models is None else models
        client = TestClient(
            create_app(settings, models=chosen), raise_server_exceptions=raise_server_exceptions
        )
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def replaced(served_models, name, stylizer):
    """``served_models`` with model ``name``'s stylizer swapped."""
    models = dict(served_models)
    models[name] = dataclasses.replace(models[name], stylizer=stylizer)
    return models
