import numpy as np
import pytest

import gradus
from gradus.data import transforms as T


def test_to_tensor_hwc_and_hw():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10  # (H, W, C)
    t = T.ToTensor()(img)
    assert isinstance(t, gradus.Tensor) and t.shape == (3, 2, 3) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    g = T.ToTensor()(np.full((28, 28), 255, np.uint8))
    assert g.shape == (1, 28, 28) and float(g.numpy().max()) == 1.0
    f = T.ToTensor()(np.full((4, 4), 3.0, np.float64))  # floats are not rescaled
    assert f.dtype == np.float32 and float(f.numpy()[0, 0, 0]) == 3.0


def test_normalize_compose_flatten_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 1.0)), T.Flatten()])
    img = np.full((2, 2, 3), 255, np.uint8)
    out = pipeline(img)
    assert isinstance(out, gradus.Tensor) and out.shape == (12,)
    np.testing.assert_allclose(out.numpy().reshape(3, 4)[:, 0], [1.0, 1.5, 1.0])
    assert T.Lambda(lambda x: x * 2)(3) == 6
    a = T.Normalize(0.5, 2.0)(np.ones((1, 2, 2), np.float32))
    assert isinstance(a, np.ndarray) and np.allclose(a, 0.25)
    assert "ToTensor" in repr(pipeline)


def test_random_crop_shapes_and_content():
    img = np.arange(32 * 32 * 3, dtype=np.int64).reshape(32, 32, 3)  # HWC ndarray
    out = T.RandomCrop(24, generator=0)(img)
    assert out.shape == (24, 24, 3)
    # The crop is a contiguous window of the input.
    i, j = np.argwhere(img[..., 0] == out[0, 0, 0])[0]
    np.testing.assert_array_equal(out, img[i : i + 24, j : j + 24])
    padded = T.RandomCrop(32, padding=4, generator=1)(img)
    assert padded.shape == (32, 32, 3)
    t = T.RandomCrop((20, 10), padding=2)(gradus.tensor(np.ones((3, 28, 28), np.float32)))  # CHW Tensor
    assert isinstance(t, gradus.Tensor) and t.shape == (3, 20, 10)
    assert T.RandomCrop(30, pad_if_needed=True)(np.ones((28, 28))).shape == (30, 30)
    with pytest.raises(ValueError):
        T.RandomCrop(40)(np.ones((28, 28)))


def test_random_crop_reproducible_with_global_seed():
    img = np.random.default_rng(0).random((28, 28))
    gradus.manual_seed(3)
    a = T.RandomCrop(20, padding=2)(img)
    gradus.manual_seed(3)
    np.testing.assert_array_equal(T.RandomCrop(20, padding=2)(img), a)


def test_flips():
    img = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    hwc = np.arange(24).reshape(2, 4, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(hwc), hwc[:, ::-1, :])
    chw = gradus.tensor(np.arange(24, dtype=np.float32).reshape(3, 2, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(chw).numpy(), chw.numpy()[:, :, ::-1])
    flips = [T.RandomHorizontalFlip(p=0.5, generator=np.random.default_rng(0))] * 1
    n = sum(np.array_equal(flips[0](img), img[:, ::-1]) for _ in range(200))
    assert 60 < n < 140


def _digit():
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255  # a thick vertical stroke, like a "1"
    img[6:10, 8:16] = 200
    return img


def test_elastic_distortion_identity_shape_mass_and_determinism():
    img = _digit()
    same = T.ElasticDistortion(alpha=0.0, sigma=4.0, generator=0)(img)
    np.testing.assert_array_equal(same, img)
    out = T.ElasticDistortion(alpha=34.0, sigma=4.0, generator=0)(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.array_equal(out, img)
    mass_in, mass_out = img.astype(float).sum(), out.astype(float).sum()
    assert abs(mass_out - mass_in) / mass_in < 0.25
    np.testing.assert_array_equal(T.ElasticDistortion(34.0, 4.0, generator=0)(img), out)
    t = T.ElasticDistortion(34.0, 4.0, generator=0)(T.ToTensor()(img))  # (1, 28, 28) Tensor
    assert isinstance(t, gradus.Tensor) and t.shape == (1, 28, 28)
    np.testing.assert_allclose(t.numpy()[0] * 255, out, atol=1.0)


def test_gaussian_filter_properties():
    const = np.full((10, 12), 3.0)
    np.testing.assert_allclose(T.gaussian_filter(const, 2.0), const)  # normalized kernel, mirrored edges
    impulse = np.zeros((21, 21))
    impulse[10, 10] = 1.0
    blurred = T.gaussian_filter(impulse, 1.5)
    assert abs(blurred.sum() - 1.0) < 1e-9 and blurred[10, 10] == blurred.max()
    np.testing.assert_allclose(blurred, blurred.T)


def test_gaussian_filter_matches_scipy_if_available():
    ndimage = pytest.importorskip("scipy.ndimage")
    a = np.random.default_rng(0).random((28, 28))
    expected = ndimage.gaussian_filter(a, 4.0, mode="reflect")
    np.testing.assert_allclose(T.gaussian_filter(a, 4.0), expected, atol=1e-12)


def test_bilinear_sample():
    img = np.array([[0.0, 10.0], [20.0, 30.0]])
    ys, xs = np.array([[0.5, 0.0]]), np.array([[0.5, 1.5]])
    np.testing.assert_allclose(T.bilinear_sample(img, ys, xs), [[15.0, 5.0]])  # 2nd: half outside -> fill 0


def test_batched_crop_and_flip():
    x = np.random.default_rng(0).random((8, 3, 32, 32)).astype(np.float32)
    out = T.batch_random_crop(x, 32, padding=4, generator=0)
    assert out.shape == (8, 3, 32, 32) and out.dtype == np.float32
    small = T.batch_random_crop(x, 24, generator=1)
    for n in range(8):  # every crop is a window of its own image
        i, j = np.argwhere(np.isclose(x[n, 0], small[n, 0, 0, 0]))[0]
        np.testing.assert_array_equal(small[n], x[n, :, i : i + 24, j : j + 24])
    flipped = T.batch_random_horizontal_flip(x, p=1.0)
    np.testing.assert_array_equal(flipped, x[..., ::-1])
    np.testing.assert_array_equal(T.batch_random_horizontal_flip(x, p=0.0), x)


def test_batch_elastic_distortion_matches_per_image_rule():
    """The batched version draws one field per image and applies the same resampling as the
    per-image transform: identity at alpha=0, shape/dtype kept, ink roughly conserved, and two
    images of one batch get different fields."""
    from gradus.data.transforms import ElasticDistortion, batch_elastic_distortion

    rng = np.random.default_rng(0)
    imgs = np.zeros((4, 28, 28), np.float32)
    imgs[:, 8:20, 12:16] = 1.0
    same = batch_elastic_distortion(imgs, alpha=0.0)
    np.testing.assert_array_equal(same, imgs)
    out = batch_elastic_distortion(imgs, alpha=34.0, sigma=4.0, generator=rng)
    assert out.shape == imgs.shape and out.dtype == np.float32
    assert abs(out.sum() - imgs.sum()) / imgs.sum() < 0.35
    assert not np.allclose(out[0], out[1])
    # same field => same result as the single-image transform
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    single = ElasticDistortion(alpha=34.0, sigma=4.0, generator=g1)(imgs[0].astype(np.float64))
    batched = batch_elastic_distortion(imgs[:1], alpha=34.0, sigma=4.0, generator=g2)[0]
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_batch_random_affine_exact_cases():
    """Identity, a quarter turn (np.rot90: counter-clockwise as displayed), a 45-degree horizontal
    shear (x' = x + y about the centre) and a 2x zoom are exact on the pixel grid."""
    rng = np.random.default_rng(0)
    imgs = rng.random((3, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(T.batch_random_affine(imgs, generator=0), imgs)
    turned = T.batch_random_affine(imgs, degrees=(90, 90), generator=0)
    np.testing.assert_allclose(turned, np.rot90(imgs, 1, axes=(1, 2)), atol=1e-6)
    sheared = T.batch_random_affine(imgs, shear=(45, 45), fill=-1.0, generator=0)
    for i in range(5):  # output (i, j) samples input (i, j - (i - 2)); outside -> fill
        for j in range(5):
            src = j - (i - 2)
            want = imgs[:, i, src] if 0 <= src < 5 else np.full(3, -1.0)
            np.testing.assert_allclose(sheared[:, i, j], want, atol=1e-6)
    zoomed = T.batch_random_affine(imgs, scale=(2.0, 2.0), generator=0)
    np.testing.assert_allclose(zoomed[:, 2, 2], imgs[:, 2, 2], atol=1e-6)  # the centre stays
    np.testing.assert_allclose(zoomed[:, 0, 2], imgs[:, 1, 2], atol=1e-6)  # 2 rows up samples 1 row up
    np.testing.assert_allclose(zoomed[:, 1, 2], (imgs[:, 1, 2] + imgs[:, 2, 2]) / 2, atol=1e-6)


def test_batch_random_affine_random_draws_translation_fill_and_errors():
    imgs = np.zeros((16, 28, 28), np.float32)
    imgs[:, 10:18, 10:18] = 1.0  # a block well inside: translation by <= 2 px keeps its ink
    moved = T.batch_random_affine(imgs, translate=(2 / 28, 2 / 28), generator=1)
    assert moved.shape == imgs.shape and moved.dtype == np.float32
    np.testing.assert_allclose(moved.sum(axis=(1, 2)), 64.0, rtol=1e-4)
    ys, xs = np.mgrid[0:28, 0:28]
    cy = (moved * ys).sum(axis=(1, 2)) / 64.0
    cx = (moved * xs).sum(axis=(1, 2)) / 64.0
    assert np.all(np.abs(cy - 13.5) <= 2.0 + 1e-4) and np.all(np.abs(cx - 13.5) <= 2.0 + 1e-4)
    assert len({round(float(v), 3) for v in cx}) > 8  # one draw per image
    # squeezing keeps the ink roughly (sx * sy = s^2) but changes the aspect: wider-or-taller blocks
    squeezed = T.batch_random_affine(imgs, squeeze=0.3, generator=2)
    width = (squeezed.sum(axis=1) > 0.5).sum(axis=1)
    height = (squeezed.sum(axis=2) > 0.5).sum(axis=1)
    assert np.all(np.abs(squeezed.sum(axis=(1, 2)) - 64.0) < 10.0) and np.any(width != height)
    # fill: a large shift brings background in; blank images of the fill value stay blank
    bg = np.full((2, 6, 6), -0.42, np.float32)
    np.testing.assert_allclose(T.batch_random_affine(bg, degrees=30, translate=(0.3, 0.3), shear=10,
                                                     fill=-0.42, generator=3), bg, atol=1e-6)
    np.testing.assert_array_equal(T.batch_random_affine(imgs, degrees=10, generator=7),
                                  T.batch_random_affine(imgs, degrees=10, generator=7))
    with pytest.raises(ValueError, match="batch_random_affine: expects"):
        T.batch_random_affine(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="scale must be positive"):
        T.batch_random_affine(imgs, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="translate must be fractions"):
        T.batch_random_affine(imgs, translate=(2, 0))
    with pytest.raises(ValueError, match="low <= high"):
        T.batch_random_affine(imgs, degrees=(10, -10))


def test_random_affine_transform_keeps_type_dtype_and_channels():
    img = _digit()                                                     # (28, 28) uint8
    out = T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10, generator=0)(img)
    assert out.shape == img.shape and out.dtype == np.uint8 and not np.array_equal(out, img)
    np.testing.assert_array_equal(T.RandomAffine((90, 90))(img), np.rot90(img))
    rgb = np.repeat(img[:, :, None], 3, axis=2)                        # (H, W, C): one draw for all channels
    out3 = T.RandomAffine(20, generator=4)(rgb)
    assert out3.shape == rgb.shape and np.array_equal(out3[..., 0], out3[..., 2])
    t = T.RandomAffine(20, generator=4)(T.ToTensor()(rgb))             # (3, 28, 28) Tensor
    assert isinstance(t, gradus.Tensor) and t.shape == (3, 28, 28)
    np.testing.assert_allclose(t.numpy()[1] * 255, out3[..., 1], atol=1.0)
    assert "RandomAffine(degrees=20" in repr(T.RandomAffine(20))
    with pytest.raises(ValueError, match="degrees"):
        T.RandomAffine(-5)
