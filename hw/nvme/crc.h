/*
 * NVMe device model: the guards of protection information (crc.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NVME_CRC_H
#define HW_NVME_CRC_H

/* CRC-16 T10-DIF: crc is the previous value (0 to start) */
uint16_t nvme_crc16_t10dif(uint16_t crc, const void *buf, size_t len);
/* CRC-64 NVMe on the register: start with ~0, invert the result */
uint64_t nvme_crc64_nvme_update(uint64_t crc, const void *buf, size_t len);
uint64_t nvme_crc64_nvme(const void *buf, size_t len);
/* Whether the carry-less multiply path is in use; the bench turns it off */
bool nvme_crc_folded(void);
void nvme_crc_set_folded(bool on);

#endif
