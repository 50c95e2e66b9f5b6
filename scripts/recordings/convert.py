#!/usr/bin/env python3
"""Convert KLettres (Debian klettres-data) recordings to <OUT>/<language>/<clip>.wav.

Usage: convert.py KLETTRES_DIR OUT_DIR [--sr 16000] [--max-per-class 0]
  KLETTRES_DIR: the extracted usr/share/klettres folder of klettres-data.
  --sr 0 keeps each file's native sample rate.
Labels = language folder of the sounds.xml (ar, cs, da, ...). Only files that
sounds.xml references and that exist in the package are used. Stereo is
averaged to mono; output is 16-bit PCM WAV. Writes OUT_DIR/labels.csv.
"""
import argparse, csv, glob, os, re, shutil
import numpy as np, soundfile as sf
from math import gcd
from scipy.signal import resample_poly

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("out")
ap.add_argument("--sr", type=int, default=16000)
ap.add_argument("--max-per-class", type=int, default=0)
a = ap.parse_args()

# remove previous class folders (top-level files such as README.md stay)
for d in glob.glob(os.path.join(a.out, "*/")):
    if all(f.endswith(".wav") for f in os.listdir(d)):
        shutil.rmtree(d)
os.makedirs(a.out, exist_ok=True)

rows = []
for xml in sorted(glob.glob(os.path.join(a.src, "*", "sounds.xml"))):
    lang = os.path.basename(os.path.dirname(xml))
    text = open(xml, encoding="utf-8").read()
    items, seen = [], set()
    for m in re.finditer(r'<sound\s+name="([^"]*)"\s+file="([^"]+)"', text):
        name, rel = m.group(1), m.group(2)
        p = os.path.join(a.src, rel)
        if rel in seen or not os.path.exists(p):
            continue
        seen.add(rel); items.append((name, rel, p))
    if not items:
        print(f"skip {lang}: sounds.xml references no shipped file"); continue
    if a.max_per_class and len(items) > a.max_per_class:  # evenly spaced, deterministic
        idx = np.linspace(0, len(items) - 1, a.max_per_class).round().astype(int)
        items = [items[i] for i in idx]
    os.makedirs(os.path.join(a.out, lang), exist_ok=True)
    for name, rel, p in items:
        x, sr0 = sf.read(p, dtype="float64", always_2d=True)
        ch = x.shape[1]; x = x.mean(axis=1)
        sr = sr0
        if a.sr and a.sr != sr0:
            g = gcd(a.sr, sr0); x = resample_poly(x, a.sr // g, sr0 // g); sr = a.sr
        y = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
        parts = rel.split("/")                      # lang/alpha|syllab/stem.ogg
        clip = re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(parts[1:])[:-4]) + ".wav"
        dst = os.path.join(a.out, lang, clip)
        assert not os.path.exists(dst), dst
        sf.write(dst, y, sr, subtype="PCM_16")
        rows.append(dict(path=f"{lang}/{clip}", label=lang, kind=parts[1], text=name,
                         source=f"usr/share/klettres/{rel}", source_sr=sr0,
                         source_channels=ch, sr=sr, seconds=round(len(y) / sr, 3)))
    print(f"{lang}: {len(items)} clips")
with open(os.path.join(a.out, "labels.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
print("total", len(rows))
