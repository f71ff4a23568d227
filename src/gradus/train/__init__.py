"""Training: the loop (``Trainer``, ``fit``, ``evaluate``), callbacks, metrics and checkpoints.

The recipes that ``gradus train`` runs, their datasets registry (``DATASETS``, ``DataBundle``,
``build_dataset``, ``register_dataset``) and their runners live one layer up, in
:mod:`gradus.recipes` (this package imports nothing from there).

    >>> import gradus
    >>> from gradus.train import Trainer, EarlyStopping
    >>> # trainer = Trainer(net, gradus.optim.Adam(net.parameters()), "cross_entropy",
    >>> #                   callbacks=[EarlyStopping("val_loss", patience=3)], seed=0)
    >>> # trainer.fit(train_ds, val_ds, epochs=20, batch_size=64)
"""
from . import metrics
from .callbacks import (
                        Callback,
                        CallbackList,
                        CSVLogger,
                        EarlyStopping,
                        JSONLLogger,
                        LambdaCallback,
                        ModelCheckpoint,
                        ProgressBar,
                        TensorBoardLogger,
)
from .checkpoint import (
                        CheckpointError,
                        CheckpointMismatchError,
                        load_checkpoint,
                        read_checkpoint,
                        save_checkpoint,
)
from .metrics import accuracy, classification_report, confusion_matrix, precision_recall_f1, top_k_accuracy
from .trainer import Trainer, TrainingDivergedError, detach_state, evaluate, fit, l2_penalty, predict

__all__ = [
    "Trainer", "fit", "evaluate", "predict", "TrainingDivergedError", "l2_penalty", "detach_state",
    "Callback", "CallbackList", "LambdaCallback", "ProgressBar", "EarlyStopping", "ModelCheckpoint",
    "CSVLogger", "JSONLLogger", "TensorBoardLogger",
    "save_checkpoint", "load_checkpoint", "read_checkpoint", "CheckpointError", "CheckpointMismatchError",
    "metrics", "accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1",
    "classification_report",
]
