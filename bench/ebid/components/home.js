// home: `/` (the catalogue's categories and regions) and `/health`. No faults are injected here.
import { Router } from 'express'
import { categories, regions } from '../data/catalogue.js'

export const home = Router()

home.get('/', (req, res) => {
  res.json({ service: 'ebid', categories, regions })
})

home.get('/health', (req, res) => {
  res.json({ ok: true })
})
