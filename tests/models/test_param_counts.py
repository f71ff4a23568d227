"""Parameter counts of the zoo against torchvision's (and the papers') numbers.

Building the ImageNet-sized models allocates their weights (np.empty: untouched pages cost no
memory) but skips the random initialisation, which would take ~1 s per 10M parameters: every
``gradus.nn.init`` function is replaced by a no-op for the duration of each test.
"""
import pytest

from gradus import models
from gradus.nn import init as nn_init


@pytest.fixture
def skip_init(monkeypatch):
    for name in dir(nn_init):
        if name.endswith("_") and not name.startswith("_") and callable(getattr(nn_init, name)):
            monkeypatch.setattr(nn_init, name, lambda tensor, *args, **kwargs: tensor)


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


TORCHVISION = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
    "resnet152": 60_192_808,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_parameter_counts(name, skip_init):
    assert _count(getattr(models, name)()) == TORCHVISION[name]


def test_googlenet_with_aux_heads(skip_init):
    assert _count(models.googlenet(aux_logits=True)) == 13_004_888


@pytest.mark.parametrize("name,count", [("resnet20", 269_722), ("resnet32", 464_154), ("resnet44", 658_586),
                                        ("resnet56", 853_018), ("resnet110", 1_727_962)])
def test_cifar_resnets_match_the_paper(name, count):
    # He et al. 2016, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M (option A shortcuts)
    assert _count(getattr(models, name)()) == count
    plain = getattr(models, name.replace("resnet", "plain"))()
    assert _count(plain) == count


def test_plain_imagenet_twins(skip_init):
    # no projection shortcuts: resnet18 minus its three downsample (1x1 conv + BN) branches
    downsample = sum(c_in * c_out + 2 * c_out for c_in, c_out in ((64, 128), (128, 256), (256, 512)))
    assert _count(models.plain18()) == 11_689_512 - downsample


def test_small_models():
    assert _count(models.lenet5()) == 60_900  # 60,000 live + the 900 C3 entries masked out by Table I
    assert models.lenet5().num_paper_parameters() == 60_000
    assert _count(models.lenet5_modern()) == 61_706
    assert _count(models.nin_cifar10()) == 966_986


def test_num_classes_changes_only_the_last_layer(skip_init):
    assert _count(models.alexnet(num_classes=10)) == 61_100_840 - 4096 * 990 - 990
    assert _count(models.resnet50(num_classes=10)) == 25_557_032 - 2048 * 990 - 990
