// A short fingerprint of the bench machine and versions, stored with every result file.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { REPO_DIR } from './paths.js'
import { cores } from './cores.js'

function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(REPO_DIR, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
    // Uncommitted changes under src/ mean the numbers are not those of that commit: say so.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== ''
    return dirty ? `${commit}-dirty` : commit
  } catch {
    return undefined
  }
}

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model,
    cores: cores(),
    memMb: Math.round(os.totalmem() / 2 ** 20),
    pm2: pkgVersion('pm2'),
    autocannon: pkgVersion('autocannon'),
    undici: pkgVersion('undici'),
    crashless: JSON.parse(fs.readFileSync(path.join(REPO_DIR, 'package.json'), 'utf8')).version,
    commit: gitCommit(),
  }
}
