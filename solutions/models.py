"""The two models of the lab. q1: the hook that stores the penultimate activations."""
import torch
from torch import nn


class TextMLP(nn.Module):
    """TF-IDF → 256 → ReLU → 64 → ReLU → classes. The hook reads the 64-d layer before its ReLU."""

    def __init__(self, n_inputs, n_classes, hidden=(256, 64)):
        super().__init__()
        self.fc1 = nn.Linear(n_inputs, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])  # the hooked layer
        self.classifier = nn.Linear(hidden[1], n_classes)
        self.capture = False     # switched on only for snapshot passes, so training copies nothing
        self.embeddings = None

    def forward(self, x):
        h = self.fc2(torch.relu(self.fc1(x)))
        # q1: when self.capture is on, keep h (detached, on the CPU, as a numpy array) in self.embeddings
        # BEGIN SOLUTION
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
        # END SOLUTION
        return self.classifier(torch.relu(h))


class ImageCNN(nn.Module):
    """conv(3,16,5) → pool → conv(16,32,5) → pool → fc 800→128 → ReLU → 10. The hook reads after the ReLU."""

    def __init__(self, n_inputs=3, n_classes=10, hidden=(128,)):
        super().__init__()
        self.conv1 = nn.Conv2d(n_inputs, 16, 5)   # n_inputs: colour channels (x.shape[1], as for the MLP)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 5 * 5, hidden[0])  # the hooked layer
        self.classifier = nn.Linear(hidden[0], n_classes)
        self.capture = False     # switched on only for snapshot passes, so training copies nothing
        self.embeddings = None

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        h = torch.relu(self.fc1(torch.flatten(x, 1)))
        # q1: when self.capture is on, keep h (detached, on the CPU, as a numpy array) in self.embeddings
        # BEGIN SOLUTION
        if self.capture:
            self.embeddings = h.detach().cpu().numpy()
        # END SOLUTION
        return self.classifier(h)

