"""Reinforcement learning (course chapter: from the MDP vocabulary to tabular control).

* :mod:`gradus.rl.mdp`: the vocabulary (state, action, reward, discount, return, policy, ``V^pi``,
  ``Q^pi``) and :class:`MDP`, the model of a gymnasium toy-text environment as arrays;
* :mod:`gradus.rl.tabular`: value and policy iteration (planning with the model), first-visit Monte
  Carlo and TD(0) prediction, SARSA and Q-learning (control from episodes);
* :mod:`gradus.rl.envs`: :func:`make_env` (``gymnasium.make`` across gymnasium's version renames);
* :mod:`gradus.rl.dqn`: deep Q-learning: :class:`ReplayBuffer`, the (Double) DQN target
  :func:`td_targets`, :func:`dqn` with a target network, Huber loss, epsilon schedule, clipped Adam;
  :func:`play_episodes` (many episodes in lockstep, one batched network call per step);
* :mod:`gradus.rl.reinforce`: REINFORCE with a learned baseline (:func:`reinforce`,
  :func:`policy_gradient_loss`).

The environments come from ``gymnasium`` (the ``rl`` extra), imported on first use. The recipes
(``frozenlake-value-iteration``, ``frozenlake-q-learning``, ``cliffwalking-sarsa-vs-q-learning``,
``taxi-q-learning``) live in :mod:`gradus.recipes.runners.rl`; ``cartpole-dqn`` and
``cartpole-reinforce`` in :mod:`gradus.recipes.runners.deep_rl`.
"""
from .dqn import *  # noqa: F401,F403
from .envs import *  # noqa: F401,F403
from .mdp import *  # noqa: F401,F403
from .reinforce import *  # noqa: F401,F403
from .tabular import *  # noqa: F401,F403
