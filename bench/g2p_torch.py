#!/usr/bin/python3
"""PyTorch 1.13 twin of examples/g2p: the same attentional encoder-decoder, trained on the same
split with the same recipe, timed the same way (time to each epoch's validation and test WER).

    node examples/g2p/main.js ...               # writes examples/g2p/output/split/*.tsv first
    /usr/bin/python3 bench/g2p_torch.py [--epochs 12] [--hidden 192] [--split examples/g2p/output/split]

The model (class Seq2Seq below) has rnnkit's parameter names, so a state_dict moves either way
(test/fixtures/seq2seq/make_seq2seq.py compares the two on fixed weights):

    sourceEmbedding -> encoder (bi)LSTM -> memory [B, S, D*H]     (keys and values of the attention)
                                  final states -> bridge (Linear + tanh; bridgeCell for c) -> decoder h0, c0
    targetEmbedding -> decoder LSTM -> queries [B, T, D*H]
    attention (Luong general: q . Wa k) over the valid source positions -> context
    h~ = tanh(combine([context; query])) -> head -> logits

Training: teacher forcing, cross-entropy with ignore_index=-100 and label smoothing, Adam with the
one-cycle learning rate (10 % warm-up, cosine) following the clock over --time-limit seconds
(or OneCycleLR over --epochs with --time-limit 0), gradient norm clipped to 1, batches of similar source
length drawn in a seeded random order (pools of 50 batches sorted by length, as rnnkit's
DataLoader bucketing does). Greedy decoding scores the validation words after every epoch.
"""

import argparse
import math
import os
import random
import sys
import time

import openblas

openblas.choose_fair_kernels()  # before torch loads OpenBLAS: not its generic Prescott kernels here

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]


class LuongAttention(nn.Module):
    """score = q . Wa k ('general', Wa without bias) or q . k ('dot')."""

    def __init__(self, query_size, key_size, method="general"):
        super().__init__()
        self.method = method
        if method == "general":
            self.Wa = nn.Linear(key_size, query_size, bias=False)

    def project_keys(self, keys):
        return self.Wa(keys) if self.method == "general" else keys

    def score(self, query, projected):
        return torch.bmm(query, projected.transpose(1, 2))


class BahdanauAttention(nn.Module):
    """score = Va(tanh(Wa(q) + Ua(k))), as in PyTorch's seq2seq tutorial."""

    def __init__(self, query_size, key_size, attention_size=None):
        super().__init__()
        attention_size = attention_size or query_size
        self.Wa = nn.Linear(query_size, attention_size)
        self.Ua = nn.Linear(key_size, attention_size)
        self.Va = nn.Linear(attention_size, 1)

    def project_keys(self, keys):
        return self.Ua(keys)

    def score(self, query, projected):
        return self.Va(torch.tanh(self.Wa(query).unsqueeze(2) + projected.unsqueeze(1))).squeeze(-1)


def attend(attention, query, projected, values, lengths):
    """Softmax over the valid keys (positions >= lengths[b] get weight exactly 0), then weights . values."""
    scores = attention.score(query, projected)
    padding = torch.arange(values.shape[1])[None, :] >= lengths[:, None]
    weights = torch.softmax(scores.masked_fill(padding[:, None, :], float("-inf")), dim=-1)
    return torch.bmm(weights, values), weights


class Seq2Seq(nn.Module):
    def __init__(self, source_vocab, target_vocab, embedding=64, hidden=192, layers=1, bidirectional=True,
                 attention="general", dropout=0.1):
        super().__init__()
        directions = 2 if bidirectional else 1
        decoder_size = directions * hidden
        between = dropout if layers > 1 else 0.0
        self.sourceEmbedding = nn.Embedding(source_vocab, embedding, padding_idx=PAD)
        self.encoder = nn.LSTM(embedding, hidden, num_layers=layers, bidirectional=bidirectional, dropout=between)
        self.bridge = nn.Linear(decoder_size, decoder_size)
        self.bridgeCell = nn.Linear(decoder_size, decoder_size)
        self.targetEmbedding = nn.Embedding(target_vocab, embedding, padding_idx=PAD)
        self.decoder = nn.LSTM(embedding, decoder_size, num_layers=layers, dropout=between)
        self.attention = (BahdanauAttention(decoder_size, decoder_size) if attention == "additive"
                          else LuongAttention(decoder_size, decoder_size, attention))
        self.combine = nn.Linear(2 * decoder_size, decoder_size)
        self.head = nn.Linear(decoder_size, target_vocab)
        self.p = dropout
        self.directions, self.layers = directions, layers

    def _bridge(self, state, linear, squash):
        L, D = self.layers, self.directions
        _, B, W = state.shape
        joined = state.view(L, D, B, W).permute(0, 2, 1, 3).reshape(L, B, D * W)
        mapped = linear(joined)
        return torch.tanh(mapped) if squash else mapped

    def encode(self, source, lengths):
        """source [B, S] ids, lengths [B] -> memory [B, S, D*H], projected keys, decoder (h0, c0)."""
        x = F.dropout(self.sourceEmbedding(source.t()), self.p, self.training)
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        output, (h, c) = self.encoder(packed)
        output, _ = pad_packed_sequence(output, total_length=source.shape[1])
        memory = output.transpose(0, 1)
        state = (self._bridge(h, self.bridge, True), self._bridge(c, self.bridgeCell, False))
        return memory, self.attention.project_keys(memory), state

    def outputs(self, queries, memory, projected, lengths):
        context, weights = attend(self.attention, queries, projected, memory, lengths)
        attentional = F.dropout(torch.tanh(self.combine(torch.cat([context, queries], 2))), self.p, self.training)
        return self.head(attentional), weights

    def forward(self, source, lengths, target_input):
        memory, projected, state = self.encode(source, lengths)
        y = F.dropout(self.targetEmbedding(target_input.t()), self.p, self.training)
        output, _ = self.decoder(y, state)
        return self.outputs(output.transpose(0, 1), memory, projected, lengths)

    @torch.no_grad()
    def greedy(self, source, lengths, max_length):
        memory, projected, state = self.encode(source, lengths)
        B = source.shape[0]
        tokens = torch.full((B,), BOS, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        out = []
        for _ in range(max_length):
            y, state = self.decoder(self.targetEmbedding(tokens)[None], state)
            logits, _ = self.outputs(y.transpose(0, 1), memory, projected, lengths)
            tokens = logits[:, 0].argmax(-1)
            out.append(torch.where(done, torch.full_like(tokens, PAD), tokens))
            done |= tokens == EOS
            if bool(done.all()):
                break
        rows = torch.stack(out, 1).tolist()
        return [[t for t in row[:row.index(EOS)] if t != PAD] if EOS in row else row for row in rows]


def one_cycle_lr(fraction, peak):
    """OneCycleLR's rate (pct_start 0.1, div_factor 25, final_div_factor 1e4, cos) at `fraction` of the
    way: rnnkit's seq2seq.oneCycleLr, the schedule of a time-limited run (without momentum cycling)."""
    initial = peak / 25
    final = initial / 1e4

    def cosine(start, end, pct):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * min(1.0, pct)))
    return cosine(initial, peak, fraction / 0.1) if fraction < 0.1 else cosine(peak, final, (fraction - 0.1) / 0.9)


def read_split(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, phones = line.rstrip("\n").split("\t")
            pairs.append((list(word), phones.split()))
    return pairs


def vocabulary(sequences):
    tokens = list(SPECIALS)
    seen = set(tokens)
    for sequence in sequences:
        for token in sequence:
            if token not in seen:
                seen.add(token)
                tokens.append(token)
    return {token: i for i, token in enumerate(tokens)}


def encode(pairs, source_vocab, target_vocab):
    return [([source_vocab.get(t, UNK) for t in s], [target_vocab.get(t, UNK) for t in p] + [EOS]) for s, p in pairs]


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def batches(items, batch_size, rng, pool_batches=50):
    """Seeded random batches of similar source length: shuffle, sort pools of 50 batches by length, shuffle the batches."""
    order = list(range(len(items)))
    rng.shuffle(order)
    pool = batch_size * pool_batches
    result = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: len(items[i][0]))
        result += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(result)
    return result


def collate(items, indices):
    sources = [items[i][0] for i in indices]
    targets = [items[i][1] for i in indices]
    return (pad(sources, PAD), torch.tensor([len(s) for s in sources]), pad([[BOS] + t[:-1] for t in targets], PAD),
            pad(targets, -100))


def error_rates(model, items, batch_size=256):
    model.eval()
    errors = edits = tokens = 0
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        sources = [items[i][0] for i in chunk]
        outputs = model.greedy(pad(sources, PAD), torch.tensor([len(s) for s in sources]), 2 * max(map(len, sources)) + 10)
        for i, output in zip(chunk, outputs):
            reference = items[i][1][:-1]
            distance = edit_distance(output, reference)
            edits += distance
            tokens += len(reference)
            errors += distance > 0
    model.train()
    return errors / len(items), edits / tokens


def edit_distance(a, b):
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i]
        for j in range(1, len(b) + 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])))
        previous = current
    return previous[-1]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default=os.path.join(here, "..", "examples", "g2p", "output", "split"))
    parser.add_argument("--epochs", type=int, default=100, help="with --time-limit 0: OneCycleLR spans them; else a bound")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--attention", default="general", choices=["dot", "general", "additive"])
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--smoothing", type=float, default=0.1)
    parser.add_argument("--train-words", type=int, default=0, help="only the first n training words (0 = all)")
    parser.add_argument("--eval-words", type=int, default=0, help="only the first n test words (0 = all)")
    parser.add_argument("--time-limit", type=float, default=1800,
                        help="seconds of training: the one-cycle learning rate follows the clock and training stops there (0 = by epochs)")
    parser.add_argument("--monitor-words", type=int, default=1000, help="validation words scored after every epoch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    train_pairs = read_split(os.path.join(args.split, "train.tsv"))
    source_vocab = vocabulary(s for s, _ in train_pairs)
    target_vocab = vocabulary(p for _, p in train_pairs)
    if args.train_words:
        train_pairs = train_pairs[:args.train_words]
    train = encode(train_pairs, source_vocab, target_vocab)
    validation = encode(read_split(os.path.join(args.split, "validation.tsv"))[:args.monitor_words], source_vocab, target_vocab)
    test_pairs = read_split(os.path.join(args.split, "test.tsv"))
    test = encode(test_pairs[:args.eval_words] if args.eval_words else test_pairs, source_vocab, target_vocab)
    model = Seq2Seq(len(source_vocab), len(target_vocab), args.embedding, args.hidden, args.layers, True, args.attention, args.dropout)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {len(train)} training, {len(validation)} validation, "
          f"{len(test)} test words; {sum(p.numel() for p in model.parameters()):,} parameters", flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    scheduler = None if args.time_limit else torch.optim.lr_scheduler.OneCycleLR(
        optimizer, args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.1)
    started = time.perf_counter()
    out_of_time = False
    for epoch in range(args.epochs):
        total = count = 0
        for indices in batches(train, args.batch_size, rng):
            if args.time_limit:
                for group in optimizer.param_groups:
                    group["lr"] = one_cycle_lr((time.perf_counter() - started) / args.time_limit, args.lr)
            source, lengths, target_input, target = collate(train, indices)
            logits, _ = model(source, lengths, target_input)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100,
                                   label_smoothing=args.smoothing)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if scheduler:
                scheduler.step()
            total += loss.item()
            count += 1
            if args.time_limit and time.perf_counter() - started >= args.time_limit:
                out_of_time = True
                break
        wer, per = error_rates(model, validation)
        elapsed = time.perf_counter() - started
        print(f"epoch {epoch + 1:2d}  loss {total / count:.4f}  validation WER {100 * wer:.2f} %  PER {100 * per:.2f} %  "
              f"{elapsed:8.1f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
        if out_of_time:
            break
    wer, per = error_rates(model, test)
    print(f"trained in {time.perf_counter() - started:.1f} s; test greedy WER {100 * wer:.2f} %  PER {100 * per:.2f} %")


if __name__ == "__main__":
    sys.exit(main())
