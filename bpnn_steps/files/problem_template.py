"""The commented template written by ``bpnn-steps new``."""

TEMPLATE = """\
# A bpnn-steps problem file.  Solve it with:  bpnn-steps solve {name}
# Notation: layers [N, M, ..., K]; W[n] is (inputs + 1) x outputs with the
# bias weights in row 0; samples are rows of data.x and data.y.
title: My 1-2-2 network, one batch gradient-descent step

network:
  layers: [1, 2, 2]                # N inputs, hidden sizes ..., K outputs
  activations: [sigmoid, linear]   # one per weight layer:
                                   #   sigmoid | tanh | relu | linear | softplus
                                   #   | leaky_relu | softmax (output only)

loss: mse                          # mse (1/2 squared error) | bce (sigmoid output)
                                   #   | ce (softmax output, one-hot targets)

data:
  x: [[1], [2]]                    # T rows of N numbers (for N = 1 also [1, 2])
  y: [[3, 4], [6, 5]]              # T rows of K numbers

weights:                           # initial weights; row 0 = biases
  W1: [[0.1, 0.1],                 # (N+1) x M
       [0.1, 0.1]]
  W2: [[0.1, 0.1],                 # (M+1) x K
       [0.1, 0.1],
       [0.1, 0.1]]
  # Instead of matrices:  fill: 0.1   (every weight)  or
  #   random: {{distribution: uniform, scale: 0.5, seed: 1}}   (uniform | normal | glorot)

training:
  learning_rate: 0.5               # lambda
  method: batch                    # batch | sgd | minibatch
  # batch_size: 2                  # minibatch only
  epochs: 1
  l2: 0.0                          # beta, L2 regularisation
  l2_bias: true                    # does beta also shrink the biases (row 0)?
  shuffle: false                   # reshuffle the samples every epoch
  seed: 0                          # for shuffle and random weights
"""
