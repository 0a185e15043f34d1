import torch
model = torch.load("m.pt")
model.eval()
data = open("x.txt").read()
