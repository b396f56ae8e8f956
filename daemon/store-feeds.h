/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "store.h"

/* The feed tables of the store: feeds, their posts, discovered feed URLs. */
