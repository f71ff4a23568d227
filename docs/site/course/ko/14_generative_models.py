r"""
생성 모델: GAN, 오토인코더, VAE, RBM
====================================

**판별 모델** 은 :math:`p(y \mid \mathbf x)` 를 배웁니다. 이미지가 주어지면 어떤 숫자인지 답하는 모델입니다.
**생성 모델** 은 데이터 자체의 분포 :math:`p(\mathbf x)` (또는 :math:`p(\mathbf x, y)`)를 배웁니다. 그
분포에서 *새로운 표본을 뽑을* 수 있을 만큼, 어떤 입력이 얼마나 그럴듯한지 말할 수 있을 만큼, 또는 입력 뒤에
숨은 몇 가지 원인(**잠재 벡터** :math:`\mathbf z`)을 찾을 수 있을 만큼 잘 배우는 것이 목표입니다. 이
페이지에서는 네 가지 생성 모델을 다룹니다. 각각은 ":math:`p(\mathbf x)` 를 식으로 쓸 수 없을 때 어떻게 그
모델을 학습시킬 것인가"라는 질문에 서로 다르게 답합니다.

**생성적 적대 신경망 (GAN)** (Goodfellow et al. 2014)은 :math:`p(\mathbf x)` 를 아예 쓰지 않습니다.
**생성자** :math:`G` 는 잡음 :math:`\mathbf z \sim \mathcal N(0, I)` 를 표본 :math:`G(\mathbf z)` 로 바꾸고,
**판별자** :math:`D` 는 입력이 진짜일 확률을 출력합니다. 둘은 **미니맥스 게임** 을 합니다.

.. math::

    \min_G \max_D \; V(D, G) = \mathbb E_{\mathbf x \sim p_{\text{data}}}\big[\log D(\mathbf x)\big]
    + \mathbb E_{\mathbf z \sim p(\mathbf z)}\big[\log\big(1 - D(G(\mathbf z))\big)\big]

:math:`G` 가 고정되어 있을 때 최적의 판별자는 :math:`D^*(\mathbf x) = p_{\text{data}}(\mathbf x) /
(p_{\text{data}}(\mathbf x) + p_G(\mathbf x))` 이고, 이 판별자를 상대로 한 게임은 :math:`p_G =
p_{\text{data}}` 일 때 이깁니다. 이때 모든 곳에서 :math:`D^* = 1/2` 입니다. 실제로는 :math:`G` 가
:math:`\log(1 - D(G(\mathbf z)))` 를 최소화하지 않습니다. 이 함수는 :math:`G` 가 서툴 때
(:math:`D(G(\mathbf z)) \approx 0`) 바로 그곳에서 평평하기 때문입니다. 대신
:math:`\log D(G(\mathbf z))` 를 최대화합니다. 이것이 **비포화(non-saturating)** 손실로, 고정점은
같으면서 학습 초기에 경사가 큽니다. **심층 합성곱 GAN (DCGAN)** (Radford et al. 2016)은 두 경기자를
합성곱으로 만듭니다. :math:`D` 에는 스트라이드 합성곱, :math:`G` 에는 전치 합성곱을 쓰고, 배치 정규화를
넣으며, 풀링과 완전 연결 은닉층은 쓰지 않습니다.

**오토인코더 (자기 부호화기)** 는 대신 부호(code)를 배웁니다. 인코더 :math:`\mathbf h = f(\mathbf x)` 는
:math:`\mathbf x` 보다 적은 수의 숫자를 만들고, 디코더 :math:`\hat{\mathbf x} = g(\mathbf h)` 는 이를
되돌리며, **재구성 오차** 가 작아지도록 학습합니다(:math:`[0, 1]` 범위의 픽셀이면 이진 교차 엔트로피, 단위는
나트). **잡음 제거 오토인코더** (Vincent et al. 2008)는 훼손된 :math:`\tilde{\mathbf x}` 를 보고 깨끗한
:math:`\mathbf x` 를 재구성해야 하므로 입력을 그대로 베끼는 것으로는 풀 수 없습니다.

**변분 오토인코더 (VAE)** (Kingma & Welling 2014)는 부호를 확률적으로 만듭니다. 인코더
:math:`q(\mathbf z \mid \mathbf x) = \mathcal N(\boldsymbol\mu, \mathrm{diag}\,\boldsymbol\sigma^2)`,
사전 분포 :math:`p(\mathbf z) = \mathcal N(0, I)`, 디코더 :math:`p(\mathbf x \mid \mathbf z)` 로
이루어지고, **증거 하한 (ELBO)** 을 최대화합니다. 쿨백-라이블러 발산 항은 닫힌 형태로 계산하고,
기댓값은 **재매개변수화 기법** :math:`\mathbf z = \boldsymbol\mu + \boldsymbol\sigma \odot
\boldsymbol\epsilon`, :math:`\boldsymbol\epsilon \sim \mathcal N(0, I)` 로 추정합니다. 이렇게 하면
경사가 샘플링을 거쳐 흐를 수 있습니다.

.. math::

    \log p(\mathbf x) \;\ge\; \mathrm{ELBO} = \mathbb E_{q(\mathbf z \mid \mathbf x)}\big[\log p(\mathbf x
    \mid \mathbf z)\big] - \mathrm{KL}\big(q(\mathbf z \mid \mathbf x)\,\|\,p(\mathbf z)\big), \qquad
    \mathrm{KL} = -\tfrac12 \sum_j \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big)

**제한 볼츠만 머신 (RBM)** (Smolensky 1986; Hinton 2002)은 이진 가시 유닛 :math:`\mathbf v` 와 은닉 유닛
:math:`\mathbf h` 로 이루어진 에너지 기반 모델로, 가시-가시 연결과 은닉-은닉 연결이 없습니다. **에너지 함수**,
조건부 확률, 그리고 은닉 유닛을 합산해 없앤 **자유 에너지** 는 다음과 같습니다.

.. math::

    E(\mathbf v, \mathbf h) = -\mathbf b^{\mathsf T}\mathbf v - \mathbf c^{\mathsf T}\mathbf h
    - \mathbf h^{\mathsf T} W \mathbf v, \qquad
    p(h_j = 1 \mid \mathbf v) = \sigma(c_j + W_{j\cdot}\mathbf v), \qquad
    F(\mathbf v) = -\mathbf b^{\mathsf T}\mathbf v - \sum_j \log\big(1 + e^{c_j + W_{j\cdot}\mathbf v}\big)

여기서 :math:`p(\mathbf v) = e^{-F(\mathbf v)}/Z` 입니다. 가능도의 경사는 "데이터 통계 빼기 모델 통계",
:math:`\Delta W \propto \langle \mathbf h \mathbf v^{\mathsf T}\rangle_{\text{data}} - \langle \mathbf h
\mathbf v^{\mathsf T}\rangle_{\text{model}}` 입니다. **분배 함수** :math:`Z` 때문에 두 번째 항은 계산할 수
없으므로, **대조 발산 (CD-k)** 은 이를 데이터에서 출발한 :math:`k` 단계 **깁스 샘플링** 의 표본으로
대신합니다.

코드: GAN의 두 경기자, 두 손실, 게임 한 판(``gan_step``)은 :source:`src/gradus/models/gan.py` 에,
오토인코더와 ``corrupt``, VAE, ``gaussian_kl`` 은 :source:`src/gradus/models/autoencoder.py` 에, RBM은
:source:`src/gradus/models/rbm.py` 에 있습니다. 아래에서 인용하는 긴 학습은
:source:`src/gradus/recipes/runners/gan.py` 와 :source:`src/gradus/recipes/runners/generative.py` 의
레시피입니다.
"""

# %%
# 왜 비포화 생성자 손실을 쓰는가
# ------------------------------
# ``generator_loss`` 는 생성된 표본에 대한 판별자의 로짓 :math:`l` (:math:`D = \sigma(l)`)을 받습니다.
# ``non_saturating=False`` 는 게임 본래의 :math:`\log(1 - D)` 로 :math:`G` 가 이것을 최소화하고,
# ``non_saturating=True`` 는 :math:`-\log D` 입니다. 둘 다 :math:`D(G(\mathbf z)) = 1` 에서 최소가 되지만,
# 학습이 시작되는 지점인 :math:`D(G(\mathbf z)) \approx 0` 에서의 기울기가 다릅니다. 곡선과 로짓에 대한 경사는
# gradus가 직접 계산한 것입니다(``generator_loss`` 를 거친 자동 미분).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus import optim
from gradus.data.datasets import load_mnist_arrays
from gradus.models import RBM, VAE, Autoencoder, AutoencoderConfig, ConvAutoencoder
from gradus.models.autoencoder import corrupt
from gradus.models.gan import GAN, GANConfig, discriminator_loss, gan_step, generator_loss

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

d_of_fake = np.linspace(0.002, 0.998, 250)                  # 격자 위의 D(G(z))
logits = gradus.tensor(np.log(d_of_fake / (1 - d_of_fake)), dtype=gradus.float64, requires_grad=True)
curves = {}
for non_saturating in (False, True):
    name = "non-saturating  -log D(G(z))" if non_saturating else "saturating  log(1 - D(G(z)))"
    with gradus.no_grad():
        values = [generator_loss(logits[i:i + 1], non_saturating).item() for i in range(len(d_of_fake))]
    logits.grad = None
    generator_loss(logits, non_saturating).backward()        # 격자에 대한 평균이므로 d/dl_i = grad_i / n
    curves[name] = (np.array(values), logits.grad.numpy() * len(d_of_fake))
for name, (values, grads) in curves.items():
    print(f"{name:<31}: at D(G(z)) = {d_of_fake[0]:.3f} loss {values[0]:+.3f}, "
          f"d loss / d logit {grads[0]:+.4f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, (values, grads) in curves.items():
    axes[0].plot(d_of_fake, values, label=name)
    axes[1].plot(d_of_fake, np.abs(grads), label=name)
axes[0].set_ylabel("generator loss")
axes[1].set_ylabel("|d loss / d logit|")
for ax in axes:
    ax.set_xlabel("D(G(z))")
    ax.axvspan(0, 0.1, color="gray", alpha=0.15)
    ax.legend(fontsize=8)
axes[0].set_title("the shaded region: where G starts (D rejects its samples)", fontsize=9)
fig.tight_layout()

# %%
# :math:`D(G(\mathbf z)) \approx 0` 에서 포화 손실의 기울기는 :math:`-D \approx 0` 입니다. 생성자는 신호가
# 가장 필요한 바로 그때 아무 신호도 받지 못합니다. 비포화 손실의 기울기는 그곳에서 :math:`-(1 - D) \approx -1`
# 입니다.
#
# 실제 신경망에서도 확인해 봅시다. 먼저 판별자가 이기게 둔 뒤(학습하지 않은 G를 상대로 D만 몇 스텝 학습),
# 각 손실에서 G의 가중치에 도달하는 경사의 크기를 잽니다. ``gan_step`` 은 게임 한 판을 온전히 진행합니다.
# 진짜 표본과 생성된 표본으로 D를 한 스텝, 이어서 갱신된 D를 거쳐 G를 한 스텝 학습합니다.

rng = np.random.default_rng(0)


def ring(n):
    """2-D toy data: 8 Gaussian blobs on a circle of radius 0.8."""
    angle = 2 * np.pi * rng.integers(0, 8, n) / 8
    centres = 0.8 * np.stack([np.cos(angle), np.sin(angle)], 1)
    return (centres + rng.normal(0, 0.05, (n, 2))).astype(np.float32)


gradus.manual_seed(0)
config = GANConfig(latent_dim=8, data_shape=(2,), g_hidden=(64, 64), d_hidden=(64, 64))
gan = GAN(config)                                             # kind="mlp": MLPGenerator, MLPDiscriminator
G, D = gan.generator, gan.discriminator
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
start = gan.sample(500, generator=np.random.default_rng(1)).numpy()
opt_head_start = optim.Adam(D.parameters(), lr=1e-2)         # D만 빠르게 학습: G의 표본을 거부하도록
for _ in range(40):
    with gradus.no_grad():
        fake = G(gradus.randn(128, 8))
    loss = discriminator_loss(D(gradus.tensor(ring(128))), D(fake))
    opt_head_start.zero_grad()
    loss.backward()
    opt_head_start.step()
z = gradus.randn(256, 8)
with gradus.no_grad():
    print(f"after 40 steps of D alone: mean D(G(z)) = {gradus.sigmoid(D(G(z))).mean().item():.4f}")
for non_saturating in (False, True):
    opt_g.zero_grad()
    generator_loss(D(G(z)), non_saturating).backward()
    norm = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in G.parameters()))
    kind = "non-saturating" if non_saturating else "saturating    "
    print(f"  gradient norm reaching G, {kind}: {norm:.5f}")
opt_g.zero_grad()

steps = 100 if FAST else 1500
history = []
for _ in range(steps):
    d_loss, g_loss = gan_step(G, D, opt_g, opt_d, gradus.tensor(ring(128)), gradus.randn(128, 8))
    history.append((d_loss, g_loss))
end = gan.sample(500, generator=np.random.default_rng(1)).numpy()
last = np.array(history[-50:])
print(f"after {steps} rounds: D loss {last[:, 0].mean():.3f} (2 ln 2 = {2 * np.log(2):.3f} at the "
      f"equilibrium D = 1/2), G loss {last[:, 1].mean():.3f} (ln 2 = {np.log(2):.3f})")

fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
real = ring(500)
for ax, (points, title) in zip(axes, [(real, "data"), (start, "G before training"),
                                      (end, f"G after {steps} rounds of gan_step")]):
    ax.scatter(real[:, 0], real[:, 1], s=3, color="lightgray")
    ax.scatter(points[:, 0], points[:, 1], s=3, color="tab:red" if points is not real else "tab:blue")
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
fig.tight_layout()

# %%
# D가 확신에 차 있으면 포화 손실이 G에 주는 경사는 비포화 손실보다 몇 배나 작습니다(출력된 노름). 그다음
# 게임을 진행하면 비포화 생성자는 D가 먼저 앞서 나간 상황에서 회복하고, 손실은 균형점 쪽으로 움직입니다.
# 균형점에서는 :math:`D \approx 1/2` 이고 D의 손실은 :math:`2 \ln 2` 입니다. 오른쪽 그림은 이만큼의 게임으로
# G가 어디까지 왔는지 보여 줍니다. 8개의 덩어리에 모두 닿았는지, 덩어리 사이에 아직 얼마나 많은 표본을 두는지
# 보십시오. 생성자가 덩어리 몇 개에만 머문다면 GAN의 고전적인 실패인 **모드 붕괴** 가 일어난 것입니다.
#
# MNIST의 DCGAN
# -------------
# ``GAN(config, kind="dcgan")`` 은 합성곱으로 된 두 경기자를 담고 있습니다. 생성자의 첫 번째 전치 합성곱은
# :math:`\mathbf z` 를 7x7 맵으로 사영하고, 4x4 스트라이드 2 전치 합성곱을 거칠 때마다 크기가 두 배가 됩니다.
# 판별자는 스트라이드 합성곱으로 그 반대 과정을 밟습니다. 잡음 배치가 거치는 모양을 하나씩 출력해 보겠습니다.

dcgan = GAN(GANConfig(g_channels=32, d_channels=32), kind="dcgan")
x = gradus.randn(2, 100).reshape(2, 100, 1, 1)
with gradus.no_grad():
    for layer in dcgan.generator.net:
        x = layer(x)
        if not isinstance(layer, (gradus.nn.BatchNorm2d, gradus.nn.ReLU)):
            print(f"G  {type(layer).__name__:<16} -> {tuple(x.shape)}")
    print(f"D  logits {tuple(dcgan.discriminator(x).shape)}")
for name, model in [("G", dcgan.generator), ("D", dcgan.discriminator)]:
    print(f"DCGAN (ngf = ndf = 32) {name}: {sum(p.numel() for p in model.parameters()):,} parameters")

# %%
# MNIST로 이 모델들을 학습시키려면 CPU에서 몇 시간이 걸리므로, 이 페이지는 레시피의 결과를 인용합니다. 표본은
# LeNet-5 숫자 분류기가 평가합니다. 생성된 숫자 1,000개에 대한 평균 확신도, 각 클래스의 비율(완벽한 생성자라면
# 클래스마다 10%), 그리고 인셉션 점수 :math:`\exp(\mathbb E_{\mathbf x}\,\mathrm{KL}(p(y \mid
# \mathbf x)\,\|\,p(y)))` (1과 10 사이이며, 처음 실행들의 3 에포크 분류기로 잰 실제 테스트 숫자의 점수는
# 9.64)입니다.
# ``benchmarks/RESULTS.md`` 의 측정값은 다음과 같습니다.
#
# - ``gradus train mnist-gan`` (완전 연결 G와 D, 비포화 손실, D에 미니배치 표준편차 특징, 20 에포크): 평균
#   확신도 **0.943**, 모든 클래스가 **6.5%에서 14.0%** 사이, 인셉션 점수 8.40으로 목표(확신도 0.9 이상, 모든
#   클래스 5-15%)에 도달했습니다. 미니배치 표준편차 특징이 없을 때는 생성자가 부분적으로 붕괴했습니다(1이
#   30%, 0이 1.6%).
# - ``gradus train mnist-dcgan`` 은 처음에 합성곱만으로 된 구조(ngf = ndf = 32, 10 에포크)에서 인셉션 점수
#   **6.84**, 논문의 ngf = ndf = 64에 G 가중치의 지수 이동 평균을 쓰면(8 에포크) **7.01** 로 목표 9.0에
#   미치지 못했습니다. 획은 선명했지만 숫자가 아닌 모양이 많았습니다. 같은 구조를 PyTorch로 학습시켜도
#   1 에포크 뒤 점수가 같았으므로(4.96 대 4.98), 격차의 원인은 프레임워크가 아니라 모델과 학습
#   방식이었습니다. 지금의 레시피는 InfoGAN의 MNIST 구조(``fc_hidden = 1024``: 두 참가자에 숫자 전체를
#   보는 완전 연결 층을 하나씩 둠)와 ``mnist-lenet5`` 가 10 에포크 동안 학습한 분류기(실제 테스트 숫자:
#   9.83)를 씁니다. **5 에포크** 뒤 평균된 생성자의 점수는 **9.36**, 평균 확신도 **0.977**, 모든
#   클래스가 **7.7%에서 12.1%** 사이로 목표에 **도달했습니다**.
#
# MNIST로 학습하는 오토인코더와 VAE
# ---------------------------------
# 빠르게 실행하기 위해 이 페이지는 작은 MNIST 파일(테스트 숫자 10,000개)을 읽어 나눕니다. 오토인코더는 앞쪽
# 숫자들로 학습하고, 한 번도 보지 못한 마지막 1,000개로 평가합니다. 두 모델 모두 유닛 256개짜리 은닉층 하나를
# 씁니다. 하나는 잡음 제거 오토인코더(부호는 숫자 32개, 학습 입력은 확률 0.3으로 가리고 표준편차 0.3의
# 가우스 잡음을 더함, ``corrupt``)이고, 다른 하나는 2차원 잠재 공간의 VAE로 이진화한 숫자로 학습합니다(각
# 픽셀을 회색 값을 확률로 하는 베르누이 변수로 배치마다 새로 뽑음).

X_all, y_all = load_mnist_arrays(train=False, flatten=False)     # (10000, 1, 28, 28), [0, 1] 범위
X_fit = X_all[: 2000 if FAST else 9000]
X_show, y_show = X_all[9000:], y_all[9000:]
epochs = 1 if FAST else 8
batch = 100


def fit(model, binarize=False, lr=1e-3):
    """Adam on model.loss(x) (the AE's BCE, the VAE's -ELBO), in nats per image."""
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for i in rng.permutation(len(X_fit) // batch):
            x = X_fit[i * batch:(i + 1) * batch]
            if binarize:
                x = (rng.random(x.shape) < x).astype(np.float32)
            loss = model.loss(gradus.tensor(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


gradus.manual_seed(0)
dae = fit(Autoencoder(AutoencoderConfig(hidden=(256,), latent_dim=32, denoising=True, drop_prob=0.3,
                                        noise_std=0.3)))
vae = fit(VAE(AutoencoderConfig(hidden=(256,), latent_dim=2)), binarize=True)
dae.eval()
vae.eval()
conv = ConvAutoencoder(latent_dim=32)
print(f"denoising autoencoder {sum(p.numel() for p in dae.parameters()):,} parameters, VAE "
      f"{sum(p.numel() for p in vae.parameters()):,}, ConvAutoencoder (16, 32 maps) "
      f"{sum(p.numel() for p in conv.parameters()):,} (not trained here)")

clean = gradus.tensor(X_show)
noisy = corrupt(clean, noise_std=0.3, drop_prob=0.3, generator=np.random.default_rng(3))
with gradus.no_grad():
    denoised = dae(noisy)
    mse_noisy = ((noisy - clean) ** 2).mean().item()
    mse_denoised = ((denoised - clean) ** 2).mean().item()
    v_bin = gradus.tensor((np.random.default_rng(4).random(X_show.shape) < X_show).astype(np.float32))
    terms = vae.elbo(v_bin, generator=np.random.default_rng(5))
    mu, _ = vae.encode(clean)
print(f"held-out digits, mean squared error per pixel against the clean image: corrupted input "
      f"{mse_noisy:.4f}, denoised {mse_denoised:.4f}")
print(f"VAE on the held-out digits (binarised): ELBO {terms.elbo.item():.2f} nats = -(reconstruction "
      f"{terms.reconstruction.item():.2f} + KL {terms.kl.item():.2f})")

n_show = 10
rows = [X_show[:n_show], np.clip(noisy.numpy()[:n_show], 0, 1), denoised.numpy()[:n_show],
        vae.reconstruct(clean[:n_show]).numpy()]
montage = np.concatenate([np.concatenate(list(r[:, 0]), axis=1) for r in rows], axis=0)
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.imshow(montage, cmap="gray_r", vmin=0, vmax=1)
ax.set_yticks(14 + 28 * np.arange(4), ["held-out digit", "corrupted", "denoised (DAE)", "VAE (2-D code)"])
ax.set_xticks([])
fig.tight_layout()

# %%
# VAE는 숫자 하나를 숫자 두 개로 압축하므로 재구성은 흐릿한 원형이 되지만, 그 두 숫자는 숫자들의 지도가
# 됩니다. 왼쪽은 평가용 숫자 1,000개의 부호 :math:`\boldsymbol\mu(\mathbf x)` 를, 모델이 한 번도 보지 못한
# 레이블로 색칠한 것입니다. 오른쪽은 사전 분포를 덮는 :math:`\mathbf z` 격자에서 디코더 :math:`p(\mathbf x
# \mid \mathbf z)` 가 만든 이미지입니다. 잠재 공간의 모든 점이 그럴듯한 숫자로 디코딩되고, 이웃한 점은 비슷한
# 숫자가 됩니다. KL 항이 이것을 가능하게 합니다.

codes = mu.numpy()
grid = np.linspace(-2, 2, 12)
zs = np.array([[a, b] for b in grid[::-1] for a in grid], dtype=np.float32)
with gradus.no_grad():
    decoded = vae.decode(gradus.tensor(zs)).numpy()[:, 0]        # (144, 28, 28)
manifold = decoded.reshape(12, 12, 28, 28).transpose(0, 2, 1, 3).reshape(12 * 28, 12 * 28)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
points = axes[0].scatter(codes[:, 0], codes[:, 1], c=y_show, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
fig.colorbar(points, ax=axes[0], ticks=range(10), label="digit (not seen by the VAE)")
axes[0].set_xlabel("z_1")
axes[0].set_ylabel("z_2")
axes[0].set_title("codes of held-out digits", fontsize=9)
axes[1].imshow(manifold, cmap="gray_r", extent=(-2, 2, -2, 2))
axes[1].set_title("decode(z) on a grid of z", fontsize=9)
axes[1].set_xlabel("z_1")
fig.tight_layout()

# %%
# 이것은 짧은 학습입니다. ``benchmarks/RESULTS.md`` 의 레시피 결과는 다음과 같습니다.
# ``gradus train mnist-autoencoder`` (784-512-256-32, 10 에포크)는 테스트 재구성 오차가 픽셀당
# **0.00641** 에 이르고, ``gradus train mnist-denoising-autoencoder`` (합성곱)는 훼손된 테스트 숫자의 오차를
# 깨끗한 숫자 기준으로 0.1241에서 **0.0122** 로 줄입니다. ``gradus train mnist-vae`` (784-512-256-16, 20
# 에포크)는 테스트 ELBO가 이미지당 **-97.97** 나트(재구성 77.66 + KL 20.30)로, 음의 로그 가능도의 상한이 97.97
# 나트라는 뜻이며 Kingma & Welling이 보고한 범위 안에 있습니다.
#
# RBM
# ---
# 먼저 정의를 확인합니다. 가시 유닛 6개와 은닉 유닛 4개로 된 작은 RBM이면 :math:`2^4` 개의 은닉 상태를 모두
# 더해 볼 수 있습니다. 자유 에너지는 :math:`-\log \sum_{\mathbf h} e^{-E(\mathbf v, \mathbf h)}` 와 같아야
# 합니다.

tiny = RBM(n_visible=6, n_hidden=4, init_std=1.0, generator=np.random.default_rng(0))
v = gradus.tensor(np.array([[1, 0, 1, 1, 0, 0]], dtype=np.float32))
all_h = gradus.tensor(np.array([[(k >> j) & 1 for j in range(4)] for k in range(16)], dtype=np.float32))
with gradus.no_grad():
    energies = tiny.energy(v.expand(16, 6), all_h).numpy().astype(np.float64)    # h 16개 모두의 E(v, h)
    print(f"-log sum_h exp(-E(v, h)) = {-np.log(np.exp(-energies).sum()):.6f}, "
          f"free_energy(v) = {tiny.free_energy(v).item():.6f}")

# %%
# 이제 이진화한 MNIST 숫자(회색 값이 0.5보다 크면 1)로 784 x 100 RBM을 CD-1로 학습시킵니다.
# ``contrastive_divergence`` 는 :math:`\overline{F(\mathbf v)}_{\text{data}} - \overline{F(\mathbf
# v_1)}_{\text{chains}}` 를 돌려주는데, 이 값의 경사가 음의 로그 가능도 경사의 CD-1 추정치이므로 gradus의
# 어떤 옵티마이저로든 CD 학습을 할 수 있습니다. 평가용 숫자의 재구성 오차를 지켜본 다음, 은닉 유닛의 가중치를
# 28x28 **필터** 로 보고, 순수한 잡음에서 출발한 깁스 체인을 돌려 봅니다.

V_fit = (X_fit.reshape(len(X_fit), 784) > 0.5).astype(np.float32)
V_show = gradus.tensor((X_show.reshape(len(X_show), 784) > 0.5).astype(np.float32))
gradus.manual_seed(0)
rbm = RBM(n_visible=784, n_hidden=100, generator=np.random.default_rng(0))
rbm.init_visible_bias_(gradus.tensor(V_fit))
opt = optim.SGD(rbm.parameters(), lr=0.2, momentum=0.5)
errors = [rbm.reconstruction_error(V_show)]
for _ in range(epochs):
    for i in rng.permutation(len(V_fit) // 50):
        loss = rbm.contrastive_divergence(gradus.tensor(V_fit[i * 50:(i + 1) * 50]), k=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    errors.append(rbm.reconstruction_error(V_show))
print("held-out reconstruction error per pixel, by epoch:", " ".join(f"{e:.4f}" for e in errors))
noise_images = gradus.tensor((np.random.default_rng(6).random((1000, 784)) < V_fit.mean()).astype(np.float32))
with gradus.no_grad():
    print(f"mean free energy: held-out digits {rbm.free_energy(V_show).mean().item():.1f}, "
          f"random images with the same ink {rbm.free_energy(noise_images).mean().item():.1f} "
          "(lower = more probable)")
chains = rbm.gibbs(noise_images[:8], k=100 if FAST else 1000, generator=np.random.default_rng(7))

W = rbm.W.detach().numpy()[:40]
W = W / np.abs(W).max(1, keepdims=True)                       # 필터마다 따로 크기를 맞춤
filters = W.reshape(4, 10, 28, 28).transpose(0, 2, 1, 3).reshape(4 * 28, 10 * 28)
fig, axes = plt.subplots(2, 1, figsize=(8, 5.6), gridspec_kw={"height_ratios": [4, 1.3]})
axes[0].imshow(filters, cmap="RdBu_r", vmin=-1, vmax=1)
axes[0].set_title("40 filters: W_j reshaped to 28x28, each scaled to its largest |weight| (red +, blue -)",
                  fontsize=9)
axes[1].imshow(np.concatenate(list(chains.numpy().reshape(8, 28, 28)), axis=1), cmap="gray_r")
axes[1].set_title(f"Gibbs chains from noise, after {100 if FAST else 1000} steps", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# 필터는 획과 얼룩을 검출하게 됩니다. 은닉 유닛 하나하나가 어떤 픽셀에는 찬성하고 어떤 픽셀에는 반대하는
# 셈입니다. 또 모델은 실제 숫자에 같은 양의 잉크를 가진 무작위 이미지보다 훨씬 낮은 자유 에너지(더 높은
# 확률)를 줍니다. 잡음에서 출발한 깁스 체인은 숫자 비슷한 모양으로 흘러가지만, 짧게 학습한 모델에서는 아직
# 거칩니다. 레시피 ``gradus train mnist-rbm`` (784 x 500, 체인 100개의 지속적 CD, 학습 숫자 60,000개로
# 10 에포크)은 테스트 재구성 오차가 학습 전 0.0860에서 픽셀당 **0.0142** 로 내려갑니다
# (``benchmarks/RESULTS.md``). 그 1,000단계 깁스 표본은 선명한 숫자이지만 4, 7, 9에 치우치는데, 체인이 모드
# 사이를 느리게 오가기 때문입니다.
