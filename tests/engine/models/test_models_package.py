import importlib


def test_package_functions_are_not_shadowed_by_submodules():
    """``engine.models.download`` must stay the function after every submodule has been imported
    (a submodule of the same name would replace it on the package and break the engine's download job)."""
    import engine.models as models

    for sub in ("fetch", "integrity", "locate", "manifest", "check"):
        importlib.import_module(f"engine.models.{sub}")
    for name in ("download", "verify", "find_model", "model_status"):
        assert callable(getattr(models, name)), name
        assert not isinstance(getattr(models, name), type(models)), name
