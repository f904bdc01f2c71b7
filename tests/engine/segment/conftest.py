import numpy as np
import pytest


@pytest.fixture(scope="session")
def chelsea():
    from skimage import data
    return np.ascontiguousarray(data.chelsea())


@pytest.fixture(scope="session")
def tiny_sam_model():
    from tests.builders.segment import tiny_sam
    return tiny_sam()


@pytest.fixture(scope="session")
def tiny_gdino():
    from tests.builders.segment import tiny_grounding_dino
    return tiny_grounding_dino()
